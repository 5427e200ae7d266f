// An unmodified socket.io-client v4 against netlab's /socket.io/ endpoint
// (tests/chat_web.rs runs it). Usage: node sio_client.js HTTP_ADDR
// Prints "joined" after joining lobby, then waits for the TCP client's
// "hello from tcp" and answers "hello from socket.io" with an ack; prints "done".
"use strict";
const { io } = require("socket.io-client");

const [addr] = process.argv.slice(2);
const WAIT = 15000;
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("timed out"), WAIT * 2);

const socket = io(`http://${addr}`, { transports: ["websocket"], reconnection: false, timeout: WAIT });
socket.on("connect_error", (e) => fail("connect_error: " + e.message));
socket.on("connect", async () => {
  if (!socket.id) fail("no sid after CONNECT");
  const nick = await socket.timeout(WAIT).emitWithAck("nick", "sio");
  if (!nick.ok) fail("nick refused: " + JSON.stringify(nick));
  const join = await socket.timeout(WAIT).emitWithAck("join", "lobby");
  if (!join.ok) fail("join refused: " + JSON.stringify(join));
  const bad = await socket.timeout(WAIT).emitWithAck("join", 42);
  if (bad.ok !== false) fail("a number as a room was accepted: " + JSON.stringify(bad));
  console.log("joined");
});
socket.on("message", async (m) => {
  if (m.text !== "hello from tcp" || m.nick !== "tina" || m.to[0] !== "lobby") fail("unexpected message " + JSON.stringify(m));
  const ack = await socket.timeout(WAIT).emitWithAck("message", { to: ["lobby"], text: "hello from socket.io" });
  if (ack.ok !== true || ack.reached !== 1) fail("unexpected ack " + JSON.stringify(ack));
  console.log("done");
  socket.disconnect();
  process.exit(0);
});
