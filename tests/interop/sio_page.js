// Headless Chromium loads a page that runs socket.io-client's browser bundle
// in polling mode against `netlab serve --http` — another origin, so every
// request is cross-origin XHR and only works with the CORS headers
// `--allow-origin` promises (tests/socketio_interop.rs drives it).
//
//   node sio_page.js
//
// It serves the page and tests/interop/node_modules/socket.io-client/dist/
// socket.io.min.js on a port of its own and prints "origin http://127.0.0.1:PORT";
// then reads netlab's HTTP address on stdin, loads the page, and prints one
// line per step: "joined" (nick and lobby acked), then, once the page has
// shown the TCP client's "hello page" and its own "hello from chromium" was
// acked as reaching one connection, "done" — with the transport still
// polling and no WebSocket ever opened.
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");
const readline = require("readline");
const { chromium } = require("playwright-core");

const WAIT = 15000;
const fail = (why) => { console.error("sio_page.js: " + why); process.exit(1); };
setTimeout(() => fail("still running after 2 minutes"), 120000).unref();

const bundle = fs.readFileSync(path.join(__dirname, "node_modules", "socket.io-client", "dist", "socket.io.min.js"));
const page = `<!doctype html>
<meta charset="utf-8">
<title>socket.io-client, polling</title>
<script src="/socket.io.min.js"></script>
<script>
  window.got = []; window.errors = []; window.state = "loading";
  const server = new URLSearchParams(location.search).get("server");
  const socket = io("http://" + server, { transports: ["polling"] });
  socket.on("connect_error", (e) => window.errors.push(e.message));
  socket.on("connect", async () => {
    try {
      const nick = await socket.timeout(10000).emitWithAck("nick", "page");
      const join = await socket.timeout(10000).emitWithAck("join", "lobby");
      window.state = nick.ok && join.ok ? "joined" : "refused " + JSON.stringify([nick, join]);
    } catch (e) { window.state = "failed " + e.message; }
  });
  socket.on("message", (m) => window.got.push(m.text));
  window.say = (text) => socket.timeout(10000).emitWithAck("message", { to: ["lobby"], text });
  window.transport = () => socket.io.engine.transport.name;
</script>`;

const files = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/") {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(page);
  } else if (url.pathname === "/socket.io.min.js") {
    res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
    res.end(bundle);
  } else {
    res.writeHead(404);
    res.end();
  }
});

files.listen(0, "127.0.0.1", () => {
  const origin = `http://127.0.0.1:${files.address().port}`;
  console.log("origin " + origin);
  readline.createInterface({ input: process.stdin }).once("line", (addr) => run(origin, addr.trim())
    .catch((e) => fail(String(e && e.stack || e))));
});

async function run(origin, addr) {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    const p = await (await browser.newContext()).newPage();
    let websockets = 0;
    p.on("websocket", () => { websockets += 1; });
    p.on("pageerror", (e) => fail("page error: " + e));
    await p.goto(`${origin}/?server=${addr}`);
    try {
      await p.waitForFunction(() => window.state === "joined", null, { timeout: WAIT });
    } catch (e) {
      const why = await p.evaluate(() => ({ state: window.state, errors: window.errors }));
      fail("the page never joined: " + JSON.stringify(why));
    }
    console.log("joined");
    await p.waitForFunction(() => window.got.includes("hello page"), null, { timeout: WAIT });
    const ack = await p.evaluate(() => window.say("hello from chromium"));
    if (ack.ok !== true || ack.reached !== 1) fail("the page's ack: " + JSON.stringify(ack));
    const transport = await p.evaluate(() => window.transport());
    if (transport !== "polling") fail("the page is on " + transport);
    if (websockets) fail(websockets + " WebSocket(s) opened in polling mode");
    console.log("done");
  } finally {
    await browser.close();
    files.close();
  }
}
