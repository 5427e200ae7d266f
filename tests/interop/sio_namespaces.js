// Socket.IO namespaces with unmodified socket.io-clients v4 against
// `netlab serve --namespace /admin` (tests/socketio_interop.rs drives it).
//
//   node sio_namespaces.js HTTP_ADDR
//
// root = io(url) and admin = io(url + "/admin") share one Engine.IO
// connection (the client multiplexes namespaces); admin2 = io(url + "/admin")
// has its own. All three join "lobby" — the same name in two namespaces.
// io(url + "/nope") must get connect_error "Invalid namespace".
//
// stdout, one JSON line each:
//   {"ev":"nope","message":…}   {"ev":"ready","shared":B}
//   {"ev":"admin-acked","ack":{…}}    admin's message to /admin's lobby
//   {"ev":"message","who":W,"text":…}  W: root, admin or admin2
//   {"ev":"left-admin","root":B,"admin":B,"admin2":B}  connected flags after admin.disconnect()
//   {"ev":"root-acked","ack":{…}}
//   {"ev":"report","root":[…],"admin":[…],"admin2":[…]}  every text each one got
// stdin, one JSON command each: {"cmd":"admin-say"} | {"cmd":"leave-admin"}
// | {"cmd":"root-say"} | {"cmd":"report"}.
"use strict";
const { io } = require("socket.io-client");
const readline = require("readline");

const [addr] = process.argv.slice(2);
const url = `http://${addr}`;
const WAIT = 15000;
const out = (o) => console.log(JSON.stringify(o));
const fail = (why) => { console.error("sio_namespaces.js: " + why); process.exit(1); };
setTimeout(() => fail("still running after 2 minutes"), 120000).unref();

const got = { root: [], admin: [], admin2: [] };
const member = (who, s) => new Promise((resolve) => {
  const watch = setTimeout(() => fail(`${who}: no CONNECT answer for ${s.nsp} within ${WAIT} ms`), WAIT);
  s.once("connect", () => clearTimeout(watch));
  s.on("connect_error", (e) => fail(`${who}: connect_error: ${e.message}`));
  s.on("message", (m) => { got[who].push(m.text); out({ ev: "message", who, text: m.text }); });
  s.once("connect", async () => {
    const j = await s.timeout(WAIT).emitWithAck("join", "lobby");
    if (!j.ok) fail(`${who}: join refused ${JSON.stringify(j)}`);
    resolve(s);
  });
});

(async () => {
  const nope = io(`${url}/nope`, { forceNew: true, reconnection: false, timeout: WAIT });
  const nopeError = await new Promise((resolve) => {
    nope.on("connect", () => fail("/nope connected"));
    nope.on("connect_error", (e) => resolve(e.message));
  });
  nope.close();
  out({ ev: "nope", message: nopeError });

  const rootSocket = io(url, { reconnection: false, timeout: WAIT });
  const adminSocket = io(`${url}/admin`, { reconnection: false, timeout: WAIT });
  const admin2Socket = io(`${url}/admin`, { forceNew: true, reconnection: false, timeout: WAIT });
  const [root, admin, admin2] = await Promise.all([
    member("root", rootSocket), member("admin", adminSocket), member("admin2", admin2Socket),
  ]);
  out({ ev: "ready", shared: root.io === admin.io && root.io !== admin2.io });

  readline.createInterface({ input: process.stdin }).on("line", async (line) => {
    const { cmd } = JSON.parse(line);
    try {
      if (cmd === "admin-say") {
        const ack = await admin.timeout(WAIT).emitWithAck("message", { to: ["lobby"], text: "admin only" });
        out({ ev: "admin-acked", ack });
      } else if (cmd === "leave-admin") {
        admin.disconnect();
        await new Promise((r) => setTimeout(r, 500));
        out({ ev: "left-admin", root: root.connected, admin: admin.connected, admin2: admin2.connected });
      } else if (cmd === "root-say") {
        const ack = await root.timeout(WAIT).emitWithAck("message", { to: ["lobby"], text: "root still here" });
        out({ ev: "root-acked", ack });
      } else if (cmd === "report") {
        out({ ev: "report", ...got });
        root.disconnect();
        admin2.disconnect();
        process.exit(0);
      }
    } catch (e) {
      fail(`${cmd}: ${e.message}`);
    }
  }).on("close", () => process.exit(0));
})().catch((e) => fail(String(e && e.stack || e)));
