// Binary attachments with unmodified socket.io-clients v4 (tests/socketio_interop.rs):
//
//   node sio_binary.js HTTP_ADDR polling|websocket
//
// Two clients on the one transport given, both in lobby. a sends a `file`
// event (the chat's event for bytes: {to, name, data}) whose data is a Buffer
// (1 2 3 255); b must get it as a Buffer with those bytes, then answers with
// 1000 bytes of its own, which a must get intact. Prints "done" and exits 0,
// or says on stderr what went wrong and exits 1.
"use strict";
const { io } = require("socket.io-client");

const [addr, transport] = process.argv.slice(2);
const WAIT = 15000;
const fail = (why) => { console.error("sio_binary.js: " + why); process.exit(1); };
if (transport !== "polling" && transport !== "websocket") fail("transport is polling or websocket");
setTimeout(() => fail("timed out"), 60000).unref();

const client = (nick) => new Promise((resolve) => {
  const s = io(`http://${addr}`, { transports: [transport], forceNew: true, reconnection: false, timeout: WAIT });
  s.on("connect_error", (e) => fail(`${nick}: connect_error: ${e.message}`));
  s.once("connect", async () => {
    const n = await s.timeout(WAIT).emitWithAck("nick", nick);
    if (!n.ok) fail(`${nick}: nick refused ${JSON.stringify(n)}`);
    const j = await s.timeout(WAIT).emitWithAck("join", "lobby");
    if (!j.ok) fail(`${nick}: join refused ${JSON.stringify(j)}`);
    resolve(s);
  });
});

const next = (s, name) => new Promise((resolve) => {
  const on = (f) => {
    if (f && f.name === name) { s.off("file", on); resolve(f); }
  };
  s.on("file", on);
});

const same = (got, want, who) => {
  if (!Buffer.isBuffer(got)) fail(`${who}: the file is not a Buffer: ${JSON.stringify(got)}`);
  if (!got.equals(want)) fail(`${who}: got bytes ${got.toString("hex")}, sent ${want.toString("hex")}`);
};

(async () => {
  const a = await client("alice");
  const b = await client("bob");
  const small = Buffer.from([1, 2, 3, 255]);
  const big = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));

  const toB = next(b, "small.bin");
  const ack = await a.timeout(WAIT).emitWithAck("file", { to: ["lobby"], name: "small.bin", data: small });
  if (ack.ok !== true || ack.reached !== 1) fail("a's ack: " + JSON.stringify(ack));
  const fb = await toB;
  same(fb.data, small, "b");
  if (fb.nick !== "alice") fail("b: from " + fb.nick);

  const toA = next(a, "big.bin");
  b.emit("file", { to: ["lobby"], name: "big.bin", data: big });
  const fa = await toA;
  same(fa.data, big, "a");

  for (const [who, s] of [["a", a], ["b", b]]) {
    const t = s.io.engine.transport.name;
    if (t !== transport) fail(`${who} is on ${t}, not ${transport}`);
  }
  console.log("done");
  a.disconnect();
  b.disconnect();
  process.exit(0);
})().catch((e) => fail(String(e && e.stack || e)));
