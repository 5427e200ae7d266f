// Idle connections for server.js: opens COUNT socket.io clients, then reports
// the server's resident memory growth per connection (VmRSS, /proc/PID/status)
// as one JSON line — the same measurement as `netlab bench chat --idle`.
//
//   node idle.js URL COUNT SERVER_PID
"use strict";
const fs = require("fs");
const { io } = require("socket.io-client");

const [url, countArg, pidArg] = process.argv.slice(2);
const COUNT = Number(countArg || 10000);
const PID = Number(pidArg);

function rss(pid) {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line.split(/\s+/)[1]) * 1024;
}

function connect() {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

async function main() {
  const before = rss(PID);
  const t0 = Date.now();
  const held = [];
  for (let i = 0; i < COUNT; i += 250) {
    const batch = [];
    for (let j = i; j < Math.min(COUNT, i + 250); j++) batch.push(connect());
    held.push(...(await Promise.all(batch)));
  }
  const connectSecs = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const after = rss(PID);
  console.log(JSON.stringify({ conns: held.length, rss_before: before, rss_after: after, bytes_per_conn: (after - before) / held.length, connect_secs: connectSecs }));
  for (const s of held) s.close();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
