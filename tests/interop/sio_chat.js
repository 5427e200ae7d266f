// An unmodified socket.io-client v4, as a new user runs it, against
// `netlab serve --http` (tests/socketio_interop.rs drives it).
//
//   node sio_chat.js HTTP_ADDR default|polling
//
// default: `io("http://ADDR")` with no options at all — HTTP long-polling
// first, then the upgrade to WebSocket. polling: `{ transports: ["polling"] }`.
// On every connection (the first, and each one after a server restart) it
// sets its nick and joins lobby again, then waits for the upgrade (default) or
// a second in which none may happen (polling), and prints `ready`.
//
// stdout, one JSON line each:
//   {"ev":"ready","first":T,"now":T,"recovered":B}  T: a transport name
//   {"ev":"upgrade","name":T}          the engine switched transport
//   {"ev":"message","text":…,"nick":…,"to":[…],"transport":T}
//   {"ev":"acked","text":…,"ack":{…}}
//   {"ev":"disconnect","reason":…}  {"ev":"connect_error","message":…}
// stdin, one JSON command each: {"say":"TEXT"} (a message to lobby, acked),
// {"quit":true}.
"use strict";
const { io } = require("socket.io-client");
const readline = require("readline");

const [addr, mode] = process.argv.slice(2);
const WAIT = 15000;
const out = (o) => console.log(JSON.stringify(o));
// The last Engine.IO packets each way, shown when something goes wrong.
const trail = [];
const note = (dir, p) => {
  trail.push(`${dir} ${p.type} ${typeof p.data === "string" ? p.data.slice(0, 120) : p.data ? "<binary>" : ""}`);
  if (trail.length > 40) trail.shift();
};
const fail = (why) => {
  console.error("sio_chat.js: " + why + "\nlast packets:\n  " + trail.join("\n  "));
  process.exit(1);
};
if (mode !== "default" && mode !== "polling") fail("mode is default or polling");
setTimeout(() => fail("still running after 2 minutes"), 120000).unref();

const socket = mode === "default"
  ? io(`http://${addr}`)
  : io(`http://${addr}`, { transports: ["polling"] });
const manager = socket.io;
let first = null;
let connectWatch = null;
manager.on("open", () => {
  // The engine of this connection, before it probes for an upgrade.
  const engine = manager.engine;
  first = engine.transport.name;
  engine.on("upgrade", (t) => { note("==", { type: "upgrade", data: t.name }); out({ ev: "upgrade", name: t.name }); });
  engine.on("packet", (p) => note("<-", p));
  engine.on("packetCreate", (p) => note("->", p));
  // The CONNECT answer must follow the engine's open.
  clearTimeout(connectWatch);
  connectWatch = setTimeout(() => {
    if (!socket.connected) fail(`no Socket.IO CONNECT answer ${WAIT} ms after the engine opened`);
  }, WAIT);
});

const upgraded = () => new Promise((resolve, reject) => {
  const engine = manager.engine;
  if (engine.transport.name === "websocket") return resolve();
  const timer = setTimeout(() => reject(new Error("no upgrade within " + WAIT + " ms")), WAIT);
  engine.once("upgrade", () => { clearTimeout(timer); resolve(); });
  engine.once("upgradeError", (e) => { clearTimeout(timer); reject(new Error("upgradeError: " + e.message)); });
});

socket.on("connect", async () => {
  try {
    const nick = await socket.timeout(WAIT).emitWithAck("nick", "sio");
    if (!nick.ok) fail("nick refused: " + JSON.stringify(nick));
    const join = await socket.timeout(WAIT).emitWithAck("join", "lobby");
    if (!join.ok) fail("join refused: " + JSON.stringify(join));
    if (mode === "default") await upgraded();
    else await new Promise((r) => setTimeout(r, 1000));
    out({ ev: "ready", first, now: manager.engine.transport.name, recovered: socket.recovered });
  } catch (e) {
    fail("after connect: " + e.message);
  }
});
socket.on("connect_error", (e) => out({ ev: "connect_error", message: e.message }));
socket.on("disconnect", (reason) => out({ ev: "disconnect", reason }));
socket.on("message", (m) => out({
  ev: "message", text: m.text, nick: m.nick, to: m.to, transport: manager.engine.transport.name,
}));

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const cmd = JSON.parse(line);
  if (cmd.say !== undefined) {
    try {
      const ack = await socket.timeout(WAIT).emitWithAck("message", { to: ["lobby"], text: cmd.say });
      out({ ev: "acked", text: cmd.say, ack });
    } catch (e) {
      fail(`no ack for ${JSON.stringify(cmd.say)}: ${e.message}`);
    }
  }
  if (cmd.quit) {
    socket.disconnect();
    process.exit(0);
  }
}).on("close", () => process.exit(0));
