// socket.io-client v4 against `netlab socketio echo` (tests/socketio_echo.rs).
// Usage: node sio_echo.js ADDR default|polling
// Prints "ok <transport in use at the end>" when every check passed.
"use strict";
const { io } = require("socket.io-client");

const [addr, mode] = process.argv.slice(2);
const WAIT = 10000;
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("timed out"), WAIT * 2);
const opts = { reconnection: false, timeout: WAIT, auth: { token: "t1" } };
if (mode === "polling") opts.transports = ["polling"];

const once = (s, ev) => new Promise((resolve) => s.once(ev, (...a) => resolve(a)));
const same = (buf, bytes) => Buffer.isBuffer(buf) && buf.equals(Buffer.from(bytes));

(async () => {
  const socket = io(`http://${addr}`, opts);
  socket.on("connect_error", (e) => fail("connect_error: " + e.message));
  const upgraded = mode === "polling" ? null : once(socket.io, "open").then(() => once(socket.io.engine, "upgrade"));
  const [auth] = await once(socket, "auth");
  if (auth.token !== "t1") fail("auth not echoed: " + JSON.stringify(auth));
  if (upgraded) await upgraded;

  socket.emit("message", "text", Buffer.from([1, 2, 255]));
  const [t, b] = await once(socket, "message-back");
  if (t !== "text" || !same(b, [1, 2, 255])) fail("message-back: " + JSON.stringify([t, b]));

  const acked = await socket.timeout(WAIT).emitWithAck("message-with-ack", { file: Buffer.from([9, 8]) });
  if (!same(acked.file, [9, 8])) fail("ack: " + JSON.stringify(acked));

  const custom = io(`http://${addr}/custom`, opts);
  const [cauth] = await once(custom, "auth");
  if (cauth.token !== "t1") fail("custom auth: " + JSON.stringify(cauth));

  const nope = io(`http://${addr}/nope`, opts);
  nope.off("connect_error");
  const [err] = await once(nope, "connect_error");
  if (err.message !== "Invalid namespace") fail("unknown namespace: " + err.message);

  console.log("ok " + socket.io.engine.transport.name);
  process.exit(0);
})().catch((e) => fail(String(e)));
