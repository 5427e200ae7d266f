// A Node Socket.IO 4.8 server with @socket.io/redis-adapter, and a
// socket.io-client connected to it, sharing rooms over a real Redis with
// `netlab serve --redis` (tests/cluster_redis.rs drives it).
//
//   node sio_redis.js REDIS_URL
//
// The server's app is the chat in a few lines: `join` puts the socket in a
// room, `message` goes to `to` (minus `except`, minus the sender) as
// {from, nick, to, text}; socket.data.nick is "nora".
//
// stdout, one JSON line each:
//   {"ev":"ready","id":ID}                 the client is connected and in lobby
//   {"ev":"message", ...data}              the client received a message
//   {"ev":"fetched","sockets":[...]}       io.in(room).fetchSockets(), every server
//   {"ev":"rooms","rooms":[...]}           adapter.allRooms(), every server
//   {"ev":"done","what":W}                 a command without an answer went out
// stdin, one JSON command each:
//   {"say":TEXT,"to":[...],"except":[...]} the client sends a message
//   {"emit":{"to":[...],"except":[...],"data":{...}}}   io.to().except().emit("message")
//   {"emitter":{"to":[...],"data":{...}}}  @socket.io/redis-emitter from a plain client
//   {"fetch":ROOM} {"rooms":true}
//   {"join":{"in":ROOM,"room":R}} {"leave":{"in":ROOM,"room":R}} {"kick":ROOM}
//   {"quit":true}
"use strict";
const { Server } = require("socket.io");
const { io: connect } = require("socket.io-client");
const { createAdapter } = require("@socket.io/redis-adapter");
const { Emitter } = require("@socket.io/redis-emitter");
const { createClient } = require("redis");
const readline = require("readline");

const [url] = process.argv.slice(2);
const out = (o) => console.log(JSON.stringify(o));
const fail = (why) => {
  console.error("sio_redis.js: " + why);
  process.exit(1);
};
setTimeout(() => fail("still running after 3 minutes"), 180000).unref();

(async () => {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  const emitterClient = pub.duplicate();
  for (const c of [pub, sub, emitterClient]) {
    c.on("error", (e) => console.error("sio_redis.js: redis:", e.message));
  }
  await Promise.all([pub.connect(), sub.connect(), emitterClient.connect()]);
  const io = new Server({ adapter: createAdapter(pub, sub, { requestsTimeout: 3000 }) });
  io.on("connection", (socket) => {
    socket.data.nick = "nora";
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (typeof ack === "function") ack();
    });
    socket.on("message", ({ to, except, text }) => {
      let op = socket.to(to);
      if (except && except.length) op = op.except(except);
      op.emit("message", { from: socket.id, nick: "nora", to, text });
    });
  });
  const httpServer = require("http").createServer();
  io.attach(httpServer);
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  const port = httpServer.address().port;
  const emitter = new Emitter(emitterClient);

  const client = connect(`http://127.0.0.1:${port}`, { transports: ["websocket"] });
  client.on("message", (m) => out({ ev: "message", ...m }));
  client.on("connect_error", (e) => fail("connect_error " + e.message));
  client.on("connect", () => {
    client.emit("join", "lobby", () => out({ ev: "ready", id: client.id }));
  });

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line);
    try {
      if (cmd.say !== undefined) {
        client.emit("message", { to: cmd.to || ["lobby"], except: cmd.except || [], text: cmd.say });
        out({ ev: "done", what: "say" });
      } else if (cmd.emit) {
        let op = io.to(cmd.emit.to);
        if (cmd.emit.except) op = op.except(cmd.emit.except);
        op.emit("message", cmd.emit.data);
        out({ ev: "done", what: "emit" });
      } else if (cmd.emitter) {
        emitter.to(cmd.emitter.to).emit("message", cmd.emitter.data);
        out({ ev: "done", what: "emitter" });
      } else if (cmd.fetch) {
        const sockets = await io.in(cmd.fetch).fetchSockets();
        out({ ev: "fetched", sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data })) });
      } else if (cmd.rooms) {
        const rooms = await io.of("/").adapter.allRooms();
        out({ ev: "rooms", rooms: [...rooms] });
      } else if (cmd.join) {
        io.in(cmd.join.in).socketsJoin(cmd.join.room);
        out({ ev: "done", what: "join" });
      } else if (cmd.leave) {
        io.in(cmd.leave.in).socketsLeave(cmd.leave.room);
        out({ ev: "done", what: "leave" });
      } else if (cmd.kick) {
        io.in(cmd.kick).disconnectSockets(true);
        out({ ev: "done", what: "kick" });
      } else if (cmd.quit) {
        break;
      }
    } catch (e) {
      fail(`${line}: ${e.message}`);
    }
  }
  client.close();
  io.close();
  await Promise.all([emitterClient.quit()]).catch(() => {});
  process.exit(0);
})().catch((e) => fail(e.stack || e.message));
