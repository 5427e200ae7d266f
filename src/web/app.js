// netlab chat page: the hub's JSON events over one WebSocket (lesson 10).
// No framework: the point is to see every message that crosses the wire.
"use strict";

const $ = (id) => document.getElementById(id);
const WIRE_MAX = 300;            // wire panel lines kept
const LOG_MAX = 500;             // messages kept per room
const BACKOFF_FIRST_MS = 500;    // first reconnect delay
const BACKOFF_MAX_MS = 10000;    // reconnect delay cap
const SEEN_DELAY_MS = 100;       // confirmations are gathered this long, then sent as one "seen"

const S = {
  ws: null,
  me: null,                  // our connection id (new on every connection)
  nick: localStorage.getItem("netlab.nick") || "",
  rooms: [],                 // rooms we are in, in join order
  current: null,             // the room shown
  members: new Map(),        // room -> Map(id -> nick)
  logs: new Map(),           // room -> [{time, kind, nick, text}]
  nextAck: 1,
  acks: new Map(),           // ack id -> callback(ackEvent)
  backoff: BACKOFF_FIRST_MS,
  wanted: JSON.parse(localStorage.getItem("netlab.rooms") || '["lobby"]'),
  // Lesson 07, when the server keeps history (its welcome carries a session):
  session: null,             // the token that resumes this session after a reconnect
  last: {},                  // history key -> highest seq handled (resends below it are dropped)
  seenTimer: null,
};

function setState(kind, text) {
  const el = $("state");
  el.className = "state " + kind;
  el.textContent = text;
}

function wire(dir, text) {
  const li = document.createElement("li");
  li.className = dir;
  const t = new Date().toLocaleTimeString([], { hour12: false });
  li.textContent = (dir === "out" ? "→ " : "← ") + t + " " + text;
  const list = $("frames");
  list.appendChild(li);
  while (list.children.length > WIRE_MAX) list.removeChild(list.firstChild);
  // Scroll the panel only (scrollIntoView would move the whole page on a phone).
  const panel = $("wire");
  panel.scrollTop = panel.scrollHeight;
}

function send(event, onAck) {
  if (!S.ws || S.ws.readyState !== WebSocket.OPEN) return false;
  if (onAck) { event.ack = S.nextAck++; S.acks.set(event.ack, onAck); }
  const text = JSON.stringify(event);
  S.ws.send(text);
  wire("out", text);
  return true;
}

function log(room, kind, nick, text) {
  if (!S.logs.has(room)) S.logs.set(room, []);
  const entries = S.logs.get(room);
  entries.push({ time: new Date(), kind, nick, text });
  if (entries.length > LOG_MAX) entries.shift();
  if (room === S.current) render();
}

function render() {
  const list = $("messages");
  list.textContent = "";
  for (const e of S.logs.get(S.current) || []) {
    const li = document.createElement("li");
    const time = document.createElement("span");
    time.className = "time";
    time.textContent = e.time.toLocaleTimeString([], { hour12: false });
    li.appendChild(time);
    if (e.kind === "message") {
      const nick = document.createElement("span");
      nick.className = "nick";
      nick.textContent = e.nick + ":";
      li.appendChild(nick);
      li.appendChild(document.createTextNode(e.text));
    } else {
      const note = document.createElement("span");
      note.className = e.kind;
      note.textContent = e.text;
      li.appendChild(note);
    }
    list.appendChild(li);
  }
  list.scrollTop = list.scrollHeight;
  renderRooms();
  renderMembers();
}

function renderRooms() {
  const ul = $("rooms");
  ul.textContent = "";
  for (const room of S.rooms) {
    const li = document.createElement("li");
    if (room === S.current) li.className = "current";
    const b = document.createElement("button");
    b.className = "room";
    b.textContent = room;
    b.onclick = () => { S.current = room; render(); };
    const x = document.createElement("button");
    x.className = "leave";
    x.textContent = "×";
    x.title = "leave " + room;
    x.onclick = () => send({ event: "leave", room }, (a) => { if (a.ok) forget(room); });
    li.append(b, x);
    ul.appendChild(li);
  }
}

function renderMembers() {
  const ul = $("members");
  ul.textContent = "";
  const m = S.members.get(S.current);
  if (!m) return;
  for (const [id, nick] of m) {
    const li = document.createElement("li");
    li.textContent = nick + (id === S.me ? " (you)" : "");
    ul.appendChild(li);
  }
}

function remember() {
  localStorage.setItem("netlab.rooms", JSON.stringify(S.rooms));
}

function forget(room) {
  S.rooms = S.rooms.filter((r) => r !== room);
  S.members.delete(room);
  if (S.current === room) S.current = S.rooms[0] || null;
  remember();
  render();
}

function join(room) {
  send({ event: "join", room }, (a) => {
    if (!a.ok) { log(S.current, "error", "", "cannot join " + room + ": " + a.message); return; }
    if (!S.rooms.includes(room)) S.rooms.push(room);
    S.current = room;
    remember();
    send({ event: "who", room });
    render();
  });
}

// A fresh session: our nickname, then the rooms we were in (a reconnect is a new connection).
function start(welcome) {
  S.me = welcome.id;
  S.session = welcome.session || null;
  if (S.nick) send({ event: "nick", nick: S.nick }, (a) => { if (!a.ok) log(S.current, "error", "", a.message); });
  else { S.nick = welcome.nick; $("nick").value = welcome.nick; }
  S.rooms = [];
  for (const room of S.wanted) join(room);
}

// After a reconnect to a server that keeps history: become the session we were
// (same id, nick, rooms) and get what we missed, or start fresh if it is gone.
function resume(welcome) {
  const token = S.session;
  S.session = null;
  send({ event: "resume", session: token, last: S.last }, (a) => {
    if (a.ok) return; // "resumed" and the missed events follow
    log(S.current, "notice", "", "could not resume (" + a.message + "): joining again");
    S.last = {}; // a new session numbers from scratch
    start(welcome);
  });
}

// A recorded event carries its seq per history key. Returns false for a resend
// of something already handled; confirms what was handled, gathered into one "seen".
function fresh(e) {
  if (!e.seq || typeof e.seq !== "object") return true;
  let isNew = false;
  for (const [key, n] of Object.entries(e.seq)) {
    if (n > (S.last[key] || 0)) { S.last[key] = n; isNew = true; }
  }
  if (S.session && !S.seenTimer) {
    S.seenTimer = setTimeout(() => { S.seenTimer = null; send({ event: "seen", seq: { ...S.last } }); }, SEEN_DELAY_MS);
  }
  return isNew;
}

function onEvent(e) {
  if (!fresh(e)) return;
  switch (e.event) {
    case "welcome":
      if (S.session) resume(e);
      else start(e);
      break;
    case "resumed":
      S.me = e.id;
      S.session = e.session;
      S.nick = e.nick; $("nick").value = e.nick;
      S.rooms = e.rooms.slice();
      if (!S.rooms.includes(S.current)) S.current = S.rooms[0] || null;
      for (const room of S.rooms) send({ event: "who", room });
      log(S.current, "notice", "", "resumed: " + e.replayed + " missed events follow");
      break;
    case "gap":
      log(S.current, "error", "", e.message);
      break;
    case "ping":
      send({ event: "pong" });
      break;
    case "ack": {
      const cb = S.acks.get(e.ack);
      S.acks.delete(e.ack);
      if (cb) cb(e);
      break;
    }
    case "message": {
      const rooms = (e.to || []).filter((r) => S.rooms.includes(r));
      const room = rooms[0] || S.current;
      log(room, "message", e.nick, e.text);
      break;
    }
    case "joined":
      if (!S.members.has(e.room)) S.members.set(e.room, new Map());
      S.members.get(e.room).set(e.id, e.nick);
      log(e.room, "notice", "", e.nick + " joined " + e.room);
      break;
    case "left":
      if (S.members.has(e.room)) S.members.get(e.room).delete(e.id);
      log(e.room, "notice", "", e.nick + " left " + e.room + (e.reason === "disconnect" ? " (disconnected)" : ""));
      break;
    case "nick":
      for (const m of S.members.values()) if (m.has(e.id)) m.set(e.id, e.nick);
      if (e.id === S.me) { S.nick = e.nick; $("nick").value = e.nick; }
      for (const room of S.rooms) if (S.members.get(room)?.has(e.id)) log(room, "notice", "", e.old + " is now " + e.nick);
      render();
      break;
    case "who":
      S.members.set(e.room, new Map(e.members.map((m) => [m.id, m.nick])));
      renderMembers();
      break;
    case "error":
    case "bye":
      log(S.current, "error", "", e.event + ": " + e.message);
      break;
    case "dropped":
      log(S.current, "error", "", "missed " + e.count + " events (reading too slowly)");
      break;
  }
}

function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  setState("connecting", "connecting…");
  const ws = new WebSocket(url);
  S.ws = ws;
  ws.onopen = () => { S.backoff = BACKOFF_FIRST_MS; setState("open", "connected"); };
  ws.onmessage = (m) => {
    wire("in", m.data);
    let e;
    try { e = JSON.parse(m.data); } catch { return; }
    if (e && typeof e.event === "string") onEvent(e);
  };
  ws.onclose = (c) => {
    S.ws = null;
    S.acks.clear();
    clearTimeout(S.seenTimer);
    S.seenTimer = null;
    S.wanted = S.rooms.length ? S.rooms.slice() : S.wanted;
    // Exponential backoff with jitter, so many pages do not return at once.
    const delay = Math.round(S.backoff * (0.75 + Math.random() / 2));
    S.backoff = Math.min(S.backoff * 2, BACKOFF_MAX_MS);
    setState("closed", "disconnected (code " + c.code + "), retrying in " + (delay / 1000).toFixed(1) + " s");
    setTimeout(connect, delay);
  };
}

$("nick-form").onsubmit = (ev) => {
  ev.preventDefault();
  const nick = $("nick").value.trim();
  if (!nick) return;
  send({ event: "nick", nick }, (a) => {
    if (a.ok) { S.nick = nick; localStorage.setItem("netlab.nick", nick); }
    else log(S.current, "error", "", "nickname refused: " + a.message);
  });
};
$("join-form").onsubmit = (ev) => {
  ev.preventDefault();
  const room = $("room").value.trim();
  if (room) join(room);
};
$("say-form").onsubmit = (ev) => {
  ev.preventDefault();
  const text = $("text").value;
  if (!text || !S.current) return;
  send({ event: "message", to: [S.current], text, self: true }, (a) => {
    if (!a.ok) log(S.current, "error", "", "not sent: " + a.message);
  });
  $("text").value = "";
};

connect();
