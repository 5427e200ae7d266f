// The chat page against a server that keeps history and wants confirmations
// (lesson 07's flags), in headless Chromium (tests/chat_web.rs runs it).
// Usage: node web_resume.js HTTP_ADDR
// Protocol with the Rust test, one line each on stdout/stdin:
//   prints "ready" once the page has joined lobby; waits for "sent" (a TCP client
//   said "before"); checks the page confirms (it stays connected past the
//   confirm deadline, with "before" shown once); drops its WebSocket and prints
//   "away"; waits for "sent" ("while away" was said meanwhile); checks the page
//   resumed its session and shows the missed message exactly once; prints "done".
"use strict";
const { chromium } = require("playwright-core");

const [addr] = process.argv.slice(2);
const WAIT = 15000;

function line() {
  return new Promise((resolve) => process.stdin.once("data", (d) => resolve(d.toString().trim())));
}
const count = (text, what) => text.split(what).length - 1;

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 700 } });
    const p = await ctx.newPage();
    p.on("pageerror", (e) => { console.error(`page error: ${e}`); process.exit(3); });
    await p.goto(`http://${addr}/`);
    await p.waitForSelector("#state.open", { timeout: WAIT });
    await p.fill("#nick", "ana");
    await p.click("#nick-form button");
    await p.waitForSelector("#rooms li.current >> text=lobby", { timeout: WAIT });
    const me = await p.evaluate(() => S.me);
    console.log("ready");

    await line();
    await p.waitForFunction(() => document.querySelector("#messages").textContent.includes("before"), null, { timeout: WAIT });
    // Past the server's confirm deadline and retries: a page that did not confirm would be dropped.
    await p.waitForTimeout(2500);
    if (!(await p.$("#state.open"))) throw new Error("the page was dropped: " + (await p.textContent("#state")));
    let shown = await p.textContent("#messages");
    if (count(shown, "before") !== 1) throw new Error("\"before\" shown " + count(shown, "before") + " times: " + shown);
    if (!(await p.textContent("#frames")).includes('"event":"seen"')) throw new Error("the page never sent seen");

    await p.evaluate(() => { S.backoff = 4000; S.ws.close(); });
    await p.waitForSelector("#state.closed", { timeout: WAIT });
    console.log("away");
    await line();
    await p.waitForSelector("#state.open", { timeout: WAIT });
    await p.waitForFunction(() => document.querySelector("#messages").textContent.includes("while away"), null, { timeout: WAIT });
    await p.waitForTimeout(1500);
    shown = await p.textContent("#messages");
    if (count(shown, "while away") !== 1 || count(shown, "before") !== 1) throw new Error("missed or repeated messages: " + shown);
    const wire = await p.textContent("#frames");
    if (!wire.includes('"event":"resume"') || !wire.includes('"event":"resumed"')) throw new Error("no resume on the wire: " + wire.slice(-600));
    if ((await p.evaluate(() => S.me)) !== me) throw new Error("the resumed session has another id");
    await p.waitForFunction(() => [...document.querySelectorAll("#members li")].some((li) => li.textContent === "ana (you)"), null, { timeout: WAIT });
    console.log("done");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
