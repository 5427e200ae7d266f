// Load generator for server.js: one sender, RECEIVERS members of one room,
// at most WINDOW messages in flight (a message is done when every receiver
// has it) — the same shape as `netlab bench chat`. Prints one JSON line.
// It drives both Node's server.js and netlab's own /socket.io/ endpoint: a
// message is sent as {room, to: [room], text} (each server reads its field)
// and arrives either as the text (Node) or as netlab's message object.
//
//   node load.js URL RECEIVERS WINDOW WARMUP_S SECS SERVER_PID
"use strict";
const fs = require("fs");
const { io } = require("socket.io-client");

const [url, receiversArg, windowArg, warmupArg, secsArg, pidArg] = process.argv.slice(2);
const RECEIVERS = Number(receiversArg || 1000);
const WINDOW = Number(windowArg || 16);
const WARMUP = Number(warmupArg || 1);
const SECS = Number(secsArg || 5);
const PID = pidArg ? Number(pidArg) : null;
const ROOM = "bench";

const CLK_TCK = 100;
function cpuSeconds(pid) {
  if (!pid) return null;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

const now = () => Number(process.hrtime.bigint());
const opts = { transports: ["websocket"], forceNew: true, reconnection: false };

function connect() {
  return new Promise((resolve, reject) => {
    const s = io(url, opts);
    s.once("connect", () => s.emit("join", ROOM, () => resolve(s)));
    s.once("connect_error", reject);
  });
}

async function main() {
  const receivers = [];
  for (let i = 0; i < RECEIVERS; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(RECEIVERS, i + 100); j++) batch.push(connect());
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
  const cpu0 = cpuSeconds(PID);
  const t0 = now();
  phase = "measure";
  await new Promise((r) => setTimeout(r, SECS * 1000));
  phase = "stop";
  const secs = (now() - t0) / 1e9;
  const cpu1 = cpuSeconds(PID);
  latencies.sort((a, b) => a - b);
  const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] / 1000 : 0);
  console.log(
    JSON.stringify({
      target: `socket.io-client -> ${url}`,
      receivers: RECEIVERS,
      window: WINDOW,
      secs,
      deliveries: measured,
      deliveries_per_sec: measured / secs,
      p50_us: q(0.5),
      p99_us: q(0.99),
      max_us: latencies.length ? latencies[latencies.length - 1] / 1000 : 0,
      server_cpu_us_per_delivery: cpu0 !== null && measured > 0 ? ((cpu1 - cpu0) * 1e6) / measured : null,
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
