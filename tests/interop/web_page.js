// Drives netlab's chat page in headless Chromium (tests/chat_web_interop.rs runs it).
// Usage: node web_page.js HTTP_ADDR SCREENSHOT_PATH
// Protocol with the Rust test, one line each on stdout/stdin:
//   prints "pages-ready" once both pages have joined lobby,
//   after alice's message it waits for the TCP client's "hello from tcp" on both pages,
//   then bob answers, prints "restart-now" and waits until both pages show they are
//   connected again after the server restart, then prints "done".
"use strict";
const { chromium } = require("playwright-core");

const [addr, shot] = process.argv.slice(2);
const URL = `http://${addr}/`;
const WAIT = 15000;

async function page(browser, nick) {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 700 } });
  const p = await ctx.newPage();
  p.on("pageerror", (e) => { console.error(`${nick}: page error: ${e}`); process.exit(3); });
  await p.goto(URL);
  await p.waitForSelector("#state.open", { timeout: WAIT });
  await p.fill("#nick", nick);
  await p.click("#nick-form button");
  await p.waitForSelector("#rooms li.current >> text=lobby", { timeout: WAIT });
  await p.waitForFunction((n) => [...document.querySelectorAll("#members li")].some((li) => li.textContent === n + " (you)"), nick, { timeout: WAIT });
  return p;
}

async function say(p, text) {
  await p.fill("#text", text);
  await p.click("#say-form button");
}

async function sees(p, text) {
  await p.waitForFunction((t) => document.querySelector("#messages").textContent.includes(t), text, { timeout: WAIT });
}

async function member(p, nick) {
  await p.waitForFunction((n) => [...document.querySelectorAll("#members li")].some((li) => li.textContent === n), nick, { timeout: WAIT });
}

function line() {
  return new Promise((resolve) => process.stdin.once("data", (d) => resolve(d.toString().trim())));
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    const alice = await page(browser, "alice");
    const bob = await page(browser, "bob");
    // bob joined as a guest, then took his name: alice's member list follows.
    await member(alice, "bob");
    console.log("pages-ready");
    await say(alice, "hello from alice");
    await sees(bob, "hello from alice");
    await sees(alice, "hello from tcp");
    await sees(bob, "hello from tcp");
    await say(bob, "hello from bob");
    await sees(alice, "hello from bob");
    // The wire panel shows the message as it went out, and the broadcast as it came in.
    const wire = await bob.textContent("#frames");
    if (!wire.includes('→') || !wire.includes('"text":"hello from bob"') || !wire.includes('"event":"message"')) {
      throw new Error("the wire panel does not show the messages: " + wire.slice(0, 400));
    }
    await alice.screenshot({ path: shot, fullPage: true });
    console.log("restart-now");
    await alice.waitForSelector("#state.closed", { timeout: WAIT });
    await bob.waitForSelector("#state.closed", { timeout: WAIT });
    await line(); // the server is back
    await alice.waitForSelector("#state.open", { timeout: WAIT * 2 });
    await bob.waitForSelector("#state.open", { timeout: WAIT * 2 });
    // Both rejoined lobby by themselves: a message goes through again.
    await alice.waitForSelector("#rooms li.current >> text=lobby", { timeout: WAIT });
    await member(bob, "alice");
    await say(alice, "back again");
    await sees(bob, "back again");
    console.log("done");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
