// Socket.IO's connection-state recovery with an unmodified socket.io-client v4
// (default options) against `netlab serve --history N`, reached through a
// proxy the Rust test cuts (tests/socketio_interop.rs).
//
//   node sio_recover.js ADDR
//
// First connection: nick, join lobby, wait for the upgrade, print ready.
// After a reconnection the server restored (socket.recovered), nothing is
// sent again: the rooms and the missed events come back by themselves. One
// it did not restore rejoins, so a failure shows what was lost.
//
// stdout, one JSON line each:
//   {"ev":"connect","recovered":B,"id":…,"pid":…}  {"ev":"ready"}
//     pid: the session id the server's CONNECT answer carried (the client
//     keeps it in socket._pid to send back when it reconnects), or null
//   {"ev":"message","text":…,"offset":…}   offset: the last argument, if any
//   {"ev":"disconnect","reason":…}  {"ev":"connect_error","message":…}
"use strict";
const { io } = require("socket.io-client");

const [addr] = process.argv.slice(2);
const WAIT = 15000;
const out = (o) => console.log(JSON.stringify(o));
// The last Engine.IO packets each way, shown when something goes wrong.
const trail = [];
const note = (dir, p) => {
  trail.push(`${dir} ${p.type} ${typeof p.data === "string" ? p.data.slice(0, 120) : p.data ? "<binary>" : ""}`);
  if (trail.length > 40) trail.shift();
};
const fail = (why) => {
  console.error("sio_recover.js: " + why + "\nlast packets:\n  " + trail.join("\n  "));
  process.exit(1);
};
setTimeout(() => fail("still running after 2 minutes"), 120000).unref();
process.stdin.on("end", () => process.exit(0)).resume();

const socket = io(`http://${addr}`);
let connectWatch = null;
socket.io.on("open", () => {
  const engine = socket.io.engine;
  note("==", { type: "open", data: engine.transport.name });
  engine.on("upgrade", (t) => note("==", { type: "upgrade", data: t.name }));
  engine.on("packet", (p) => note("<-", p));
  engine.on("packetCreate", (p) => note("->", p));
  // The CONNECT answer must follow the engine's open.
  clearTimeout(connectWatch);
  connectWatch = setTimeout(() => {
    if (!socket.connected) fail(`no Socket.IO CONNECT answer ${WAIT} ms after the engine opened`);
  }, WAIT);
});
let first = true;
socket.on("connect", async () => {
  out({ ev: "connect", recovered: socket.recovered ?? null, id: socket.id, pid: socket._pid ?? null });
  if (socket.recovered) return;
  try {
    const nick = await socket.timeout(WAIT).emitWithAck("nick", "sio");
    if (!nick.ok) fail("nick refused: " + JSON.stringify(nick));
    const join = await socket.timeout(WAIT).emitWithAck("join", "lobby");
    if (!join.ok) fail("join refused: " + JSON.stringify(join));
    if (first) {
      first = false;
      const engine = socket.io.engine;
      if (engine.transport.name !== "websocket") {
        await new Promise((resolve, reject) => {
          engine.once("upgrade", resolve);
          setTimeout(() => reject(new Error("no upgrade")), WAIT);
        });
      }
      out({ ev: "ready" });
    }
  } catch (e) {
    fail("after connect: " + e.message);
  }
});
socket.on("connect_error", (e) => out({ ev: "connect_error", message: e.message }));
socket.on("disconnect", (reason) => out({ ev: "disconnect", reason }));
socket.on("message", (m, ...rest) => out({
  ev: "message", text: m.text, offset: rest.length ? rest[rest.length - 1] : null,
}));
