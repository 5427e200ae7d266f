// socket.io-client v4 notices a server that stopped answering (tests/chat_web.rs
// freezes the server with SIGSTOP). Usage: node sio_heartbeat.js HTTP_ADDR
// Prints "connected", then "disconnect: REASON" when the client gives up.
"use strict";
const { io } = require("socket.io-client");
const [addr] = process.argv.slice(2);
setTimeout(() => { console.error("timed out"); process.exit(1); }, 30000);
const socket = io(`http://${addr}`, { transports: ["websocket"], reconnection: false });
socket.on("connect_error", (e) => { console.error("connect_error: " + e.message); process.exit(1); });
socket.on("connect", () => console.log("connected"));
socket.on("disconnect", (reason) => { console.log("disconnect: " + reason); process.exit(0); });
