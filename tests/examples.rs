//! The lesson examples run and check their own claims: each panics (and
//! exits non-zero) when what it prints is not what happened.

use std::path::PathBuf;
use std::process::Command;

/// Builds `name` (a no-op when it is fresh) and returns its path.
fn example(name: &str) -> PathBuf {
    // target/PROFILE/deps/examples-HASH → target/PROFILE/examples/NAME
    let exe = std::env::current_exe().unwrap();
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/PROFILE/deps")
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "--example", name]);
    if profile.ends_with("release") {
        build.arg("--release");
    }
    let status = build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "example {name} builds");
    profile.join("examples").join(name)
}

#[test]
fn missed_events_shows_the_loss_then_the_exact_replay() {
    let out = Command::new(example("07_missed_events"))
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the example's own claims failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ana MISSED 3 events"),
        "part 1 shows the loss: {stdout}"
    );
    assert!(
        stdout.contains("resumed: 3 missed events follow"),
        "part 2 shows the replay: {stdout}"
    );
}
