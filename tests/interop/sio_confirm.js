// Server-emitted ack requests, from an unmodified socket.io-client v4
// (tests/chat_web.rs runs it against `netlab serve --history N --confirm-timeout T`).
//
//   node sio_confirm.js HTTP_ADDR answer|silent
//
// Joins lobby, prints "ready", then prints one JSON line per "message" event:
// {"text":…,"seq":…,"asked":true|false} — asked: the server sent it with an ack
// id (the listener got an ack callback). "answer" calls every ack callback the
// server hands it (socket.onAny sees them all); "silent" never does.
"use strict";
const { io } = require("socket.io-client");

const [addr, mode] = process.argv.slice(2);
const WAIT = 15000;
const fail = (why) => { console.error(why); process.exit(1); };
if (mode !== "answer" && mode !== "silent") fail("mode is answer or silent");
setTimeout(() => process.exit(0), WAIT * 2);

const socket = io(`http://${addr}`, { transports: ["websocket"], reconnection: false, timeout: WAIT });
socket.on("connect_error", (e) => fail("connect_error: " + e.message));
socket.on("connect", async () => {
  const join = await socket.timeout(WAIT).emitWithAck("join", "lobby");
  if (!join.ok) fail("join refused: " + JSON.stringify(join));
  console.log("ready");
});
if (mode === "answer") {
  socket.onAny((...args) => {
    const last = args[args.length - 1];
    if (typeof last === "function") last();
  });
}
socket.on("message", (m, ack) => {
  console.log(JSON.stringify({ text: m.text, seq: m.seq ?? null, asked: typeof ack === "function" }));
});
socket.on("disconnect", (reason) => console.log(JSON.stringify({ disconnect: reason })));
