// Load generator for server.js: one sender, RECEIVERS members of one room,
// at most WINDOW messages in flight (a message is done when every receiver
// has it) — the same shape as `netlab bench chat`. Prints one JSON line.
// It drives both Node's server.js and netlab's own /socket.io/ endpoint: a
// message is sent as {room, to: [room], text} (each server reads its field)
// and arrives either as the text (Node) or as netlab's message object.
//
//   node load.js URL RECEIVERS WINDOW WARMUP_S SECS SERVER_PID [TRANSPORT]
//
// URL and SERVER_PID may each be a comma-separated list (scripts/bench-cluster):
// the receivers are spread over the URLs in turn, the sender is on the first,
// and the server CPU is that of every PID together. With REDIS_PID set, the
// Redis server's CPU per delivery is reported too.
//
// TRANSPORT is what every client (receivers and sender) uses:
//   websocket          transports: ["websocket"] (the default)
//   polling            transports: ["polling"], socket.io-client's own HTTP
//                      requests: in Node its XHR has no agent, so every GET and
//                      POST opens a TCP connection of its own ("Connection: close")
//   polling-keepalive  the same, through one http.Agent({keepAlive: true}) shared
//                      by all clients, so requests reuse connections as a
//                      browser's do
// Besides deliveries it reports, for the measured window, the HTTP requests
// and TCP connections the clients opened (node:diagnostics_channel) and the
// server's open file descriptors at its end.
"use strict";
const fs = require("fs");
const http = require("http");
const dc = require("diagnostics_channel");
const { io } = require("socket.io-client");

const [url, receiversArg, windowArg, warmupArg, secsArg, pidArg, transportArg] = process.argv.slice(2);
const RECEIVERS = Number(receiversArg || 1000);
const WINDOW = Number(windowArg || 16);
const WARMUP = Number(warmupArg || 1);
const SECS = Number(secsArg || 5);
const URLS = url.split(",");
const PIDS = pidArg ? pidArg.split(",").map(Number) : [];
const PID = PIDS.length ? PIDS[0] : null;
const REDIS_PID = process.env.REDIS_PID ? Number(process.env.REDIS_PID) : null;
const ROOM = "bench";

const CLK_TCK = 100;
function cpuSeconds(pid) {
  if (!pid) return null;
  if (Array.isArray(pid)) return pid.length ? pid.reduce((sum, p) => sum + cpuSeconds(p), 0) : null;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

const now = () => Number(process.hrtime.bigint());
const TRANSPORT = transportArg || "websocket";
const TRANSPORTS = { websocket: ["websocket"], polling: ["polling"], "polling-keepalive": ["polling"] };
if (!TRANSPORTS[TRANSPORT]) throw new Error(`unknown transport ${TRANSPORT}: websocket, polling or polling-keepalive`);
const opts = { transports: TRANSPORTS[TRANSPORT], forceNew: true, reconnection: false };
if (TRANSPORT === "polling-keepalive") opts.agent = new http.Agent({ keepAlive: true });

// HTTP requests and TCP connections opened by this process.
const opened = { requests: 0, conns: 0 };
dc.subscribe("http.client.request.start", () => opened.requests++);
dc.subscribe("net.client.socket", () => opened.conns++);

function fdCount(pid) {
  if (!pid) return null;
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function connect(at = URLS[0]) {
  return new Promise((resolve, reject) => {
    const s = io(at, opts);
    s.once("connect", () => s.emit("join", ROOM, () => resolve(s)));
    s.once("connect_error", reject);
  });
}

async function main() {
  const receivers = [];
  for (let i = 0; i < RECEIVERS; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(RECEIVERS, i + 100); j++) batch.push(connect(URLS[j % URLS.length]));
    receivers.push(...(await Promise.all(batch)));
  }
  const sender = await connect();

  let phase = "warmup";
  let delivered = 0;
  let measured = 0;
  let sent = 0;
  const latencies = [];
  const pump = () => {
    if (phase === "stop") return;
    const done = Math.floor(delivered / RECEIVERS);
    while (sent - done < WINDOW) {
      sender.emit("message", { room: ROOM, to: [ROOM], text: String(now()) });
      sent++;
    }
  };
  for (const r of receivers) {
    r.on("message", (m) => {
      const text = typeof m === "string" ? m : m.text;
      delivered++;
      if (phase === "measure") {
        measured++;
        latencies.push(now() - Number(text));
      }
      if (delivered % RECEIVERS === 0) pump();
    });
  }
  pump();
  await new Promise((r) => setTimeout(r, WARMUP * 1000));
  const cpu0 = cpuSeconds(PIDS);
  const redis0 = cpuSeconds(REDIS_PID);
  const opened0 = { ...opened };
  const own0 = process.cpuUsage();
  const t0 = now();
  phase = "measure";
  await new Promise((r) => setTimeout(r, SECS * 1000));
  phase = "stop";
  const secs = (now() - t0) / 1e9;
  const cpu1 = cpuSeconds(PIDS);
  const redis1 = cpuSeconds(REDIS_PID);
  const own = process.cpuUsage(own0);
  const requests = opened.requests - opened0.requests;
  const conns = opened.conns - opened0.conns;
  const serverFds = fdCount(PID);
  latencies.sort((a, b) => a - b);
  const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] / 1000 : 0);
  console.log(
    JSON.stringify({
      target: `socket.io-client -> ${url}`,
      transport: TRANSPORT,
      receivers: RECEIVERS,
      window: WINDOW,
      secs,
      deliveries: measured,
      deliveries_per_sec: measured / secs,
      p50_us: q(0.5),
      p99_us: q(0.99),
      max_us: latencies.length ? latencies[latencies.length - 1] / 1000 : 0,
      servers: URLS.length,
      server_cpu_us_per_delivery: cpu0 !== null && measured > 0 ? ((cpu1 - cpu0) * 1e6) / measured : null,
      redis_cpu_us_per_delivery: redis0 !== null && measured > 0 ? ((redis1 - redis0) * 1e6) / measured : null,
      client_cpu_us_per_delivery: measured > 0 ? (own.user + own.system) / measured : null,
      http_requests_per_sec: requests / secs,
      tcp_connects_per_sec: conns / secs,
      deliveries_per_request: requests > 0 ? measured / requests : null,
      server_fds: serverFds,
    })
  );
  for (const r of receivers) r.close();
  sender.close();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
