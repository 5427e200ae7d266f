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
"use strict";
const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 0);
const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports: ["websocket"],
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
  socket.on("message", (msg) => {
    if (msg && typeof msg.room === "string") socket.to(msg.room).emit("message", msg.text);
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on ws://127.0.0.1:${httpServer.address().port}`);
});
