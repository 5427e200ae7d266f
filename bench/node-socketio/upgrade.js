// What a default socket.io-client's start costs: COUNT clients created with
// io(url) and no transport options, so each opens its Engine.IO session with
// HTTP long-polling, connects, and then upgrades to WebSocket (2probe, 3probe,
// the waiting GET released with a noop, 5). At most PARALLEL clients are
// starting at once. Per client it times, from io() (the first GET):
//   open      the handshake answered (the open packet, over polling)
//   connect   the Socket.IO CONNECT answered
//   upgrade   the engine's "upgrade" event: the WebSocket is the transport
//   first_ws  the first application packet received over the WebSocket: the
//             ack of a "join" emitted at the upgrade (a room of its own per
//             client: netlab tells a room's members who joined, Node's
//             server.js does not, and a shared room would make that O(N²))
// and reports p50/p99 of each, plus the server's CPU time for the COUNT starts
// (from before the first io() to the last first_ws; clients are held open
// until then, so no close is counted). A few hundred starts take a fraction of
// a second of CPU, so it is read from the scheduler's per-thread run time
// (/proc/PID/task/*/schedstat, nanoseconds) rather than /proc/PID/stat's 10 ms
// ticks. WARM clients (default 50) are started the same way first and are not
// counted: Node's JIT (and netlab's allocator) get warm, as in a server that
// has been running. One JSON line.
//
//   node upgrade.js URL COUNT PARALLEL SERVER_PID [MODE] [WARM]
//
// MODE: default   io(url): polling, then the upgrade (the default)
//       keepalive the same with an http.Agent({keepAlive: true}) for the
//                 polling requests (socket.io-client in Node otherwise opens a
//                 TCP connection per request; browsers reuse them)
//       websocket transports: ["websocket"]: no polling, no upgrade (the
//                 reference: what the upgrade adds); upgrade = connect there
"use strict";
const fs = require("fs");
const http = require("http");
const dc = require("diagnostics_channel");
const { io } = require("socket.io-client");

const [url, countArg, parallelArg, pidArg, modeArg, warmArg] = process.argv.slice(2);
const COUNT = Number(countArg || 200);
const PARALLEL = Number(parallelArg || 10);
const PID = pidArg ? Number(pidArg) : null;
const MODE = modeArg || "default";
const WARM = Number(warmArg ?? 50);
if (!["default", "keepalive", "websocket"].includes(MODE)) throw new Error(`unknown mode ${MODE}`);

// The server's CPU time so far, in seconds: the sum of its threads' run time.
function cpuSeconds(pid) {
  if (!pid) return null;
  let ns = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ns / 1e9;
}
const now = () => Number(process.hrtime.bigint());

const opened = { requests: 0, conns: 0 };
dc.subscribe("http.client.request.start", () => opened.requests++);
dc.subscribe("net.client.socket", () => opened.conns++);

const opts = { forceNew: true, reconnection: false };
if (MODE === "keepalive") opts.agent = new http.Agent({ keepAlive: true });
if (MODE === "websocket") opts.transports = ["websocket"];

// One client from io() to its first packet over the WebSocket.
function start(k) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const t = {};
    const s = io(url, opts);
    const engine = s.io.engine;
    engine.once("open", () => (t.open = now() - t0));
    s.once("connect_error", reject);
    s.once("connect", () => (t.connect = now() - t0));
    const onWs = () => {
      t.upgrade = now() - t0;
      if (engine.transport.name !== "websocket") return reject(new Error("upgrade: not on websocket"));
      s.emit("join", `upgrade-${k}`, () => {
        t.first_ws = now() - t0;
        resolve({ s, t });
      });
    };
    if (MODE === "websocket") s.once("connect", onWs);
    else engine.once("upgrade", onWs);
  });
}

// Starts `count` clients, `PARALLEL` at a time; resolves with them all.
async function startMany(count, first) {
  const done = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      done.push(await start(first + next++));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, count) }, worker));
  return done;
}

async function main() {
  const warm = await startMany(WARM, COUNT);
  await new Promise((r) => setTimeout(r, 300));
  const opened0 = { ...opened };
  const cpu0 = cpuSeconds(PID);
  const t0 = now();
  const done = await startMany(COUNT, 0);
  const wall = (now() - t0) / 1e9;
  const cpu1 = cpuSeconds(PID);
  const stats = {};
  for (const k of ["open", "connect", "upgrade", "first_ws"]) {
    const xs = done.map((d) => d.t[k]).sort((a, b) => a - b);
    const q = (p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] / 1e6;
    stats[`${k}_p50_ms`] = q(0.5);
    stats[`${k}_p99_ms`] = q(0.99);
  }
  console.log(
    JSON.stringify({
      target: `socket.io-client -> ${url}`,
      mode: MODE,
      clients: done.length,
      warm: warm.length,
      parallel: PARALLEL,
      secs: wall,
      ...stats,
      server_cpu_us_per_client: cpu0 !== null ? ((cpu1 - cpu0) * 1e6) / done.length : null,
      http_requests_per_client: (opened.requests - opened0.requests) / done.length,
      tcp_connects_per_client: (opened.conns - opened0.conns) / done.length,
    })
  );
  for (const d of [...warm, ...done]) d.s.close();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
