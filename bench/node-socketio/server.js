// The peer for `scripts/bench-chat`: the same room fan-out as `netlab serve`,
// served by Node's Socket.IO (WebSocket transport, no compression).
//
//   node server.js [PORT]      prints "listening on ws://127.0.0.1:PORT" first
//   RECOVERY=1 node server.js  with Socket.IO's connection state recovery on
//                              (it keeps every room packet for replay): the peer
//                              for `netlab serve --history` in scripts/bench-replay
//
// Clients emit "join" (room, ack) and "message" ({room, text}); a message goes
// to the room but the sender: socket.to(room).emit(...), as in netlab.
//
// With NETLAB_SHAPE=1 a message goes out as the object netlab's /socket.io/
// sends ({from, nick, to, text}), so both servers write the same bytes.
//
// REDIS_URL=redis://127.0.0.1:PORT shares rooms with the other servers on that
// Redis through @socket.io/redis-adapter: the Node pair of scripts/bench-cluster.
//
// TRANSPORTS=polling,websocket serves HTTP long-polling and the upgrade too
// (Socket.IO's own default, as netlab's /socket.io/ does); without it, only
// WebSocket, as in scripts/bench-chat parts 1-2 and scripts/bench-replay.
"use strict";
const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 0);
const NETLAB_SHAPE = process.env.NETLAB_SHAPE === "1";
const TRANSPORTS = (process.env.TRANSPORTS || "websocket").split(",");
const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports: TRANSPORTS,
  perMessageDeflate: false,
  serveClient: false,
  ...(process.env.RECOVERY === "1"
    ? { connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true } }
    : {}),
});

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(io.sockets.adapter.rooms.get(room)?.size ?? 0);
  });
  const nick = `guest-${socket.id.slice(0, 4)}`;
  socket.on("message", (msg) => {
    if (!msg || typeof msg.room !== "string") return;
    if (NETLAB_SHAPE) {
      socket.to(msg.room).emit("message", { from: socket.id, nick, text: msg.text, to: [msg.room] });
    } else {
      socket.to(msg.room).emit("message", msg.text);
    }
  });
});

async function start() {
  if (process.env.REDIS_URL) {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: process.env.REDIS_URL });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  httpServer.listen(port, "127.0.0.1", () => {
    console.log(`listening on ws://127.0.0.1:${httpServer.address().port}`);
  });
}
start().catch((e) => {
  console.error(e);
  process.exit(1);
});
