// Node `ws` as a client of netlab's echo server (interop tier).
// Usage: node ws_node_client.js ws://127.0.0.1:PORT/
// Prints one `ok <check>` line per check, then `ALL OK`; exits 1 on failure.
'use strict';
const assert = require('assert');
const crypto = require('crypto');
const WebSocket = require('ws');

const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20];
const url = process.argv[2];

function open(u) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u, { perMessageDeflate: false, maxPayload: 0 });
    const queue = [];
    const waiters = [];
    ws.on('message', (data, isBinary) => {
      const m = { data: isBinary ? data : data.toString('utf8'), isBinary };
      if (waiters.length) waiters.shift()(m); else queue.push(m);
    });
    ws.next = () => new Promise((res) => (queue.length ? res(queue.shift()) : waiters.push(res)));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function main() {
  const ws = await open(url);
  for (const size of SIZES) {
    const bin = crypto.randomBytes(size);
    ws.send(bin, { binary: true });
    let m = await ws.next();
    assert.ok(m.isBinary && Buffer.compare(m.data, bin) === 0, `binary ${size} differs`);
    const text = 'x'.repeat(size);
    ws.send(text);
    m = await ws.next();
    assert.strictEqual(m.data, text, `text ${size} differs`);
    console.log(`ok echo ${size}`);
  }
  // Fragments: `fin: false` sends a frame that continues in the next send.
  ws.send('frag', { fin: false });
  ws.send('men', { fin: false });
  ws.send('ted ✓', { fin: true });
  assert.strictEqual((await ws.next()).data, 'fragmented ✓');
  console.log('ok fragmented');
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no pong')), 5000);
    ws.once('pong', (data) => {
      clearTimeout(t);
      assert.strictEqual(data.toString(), 'node?');
      resolve();
    });
    ws.ping('node?');
  });
  console.log('ok ping');
  const code = await new Promise((resolve) => {
    ws.once('close', (c) => resolve(c));
    ws.close(4002, 'node done');
  });
  assert.strictEqual(code, 4002);
  console.log('ok close 4002');
  // A text frame that is not UTF-8 (ws sends a Buffer as text unchecked): the server fails it with 1007.
  const bad = await open(url);
  const badCode = await new Promise((resolve) => {
    bad.once('close', (c) => resolve(c));
    bad.send(Buffer.from([0x6f, 0x6b, 0xff, 0xfe]), { binary: false });
  });
  assert.strictEqual(badCode, 1007);
  console.log('ok invalid utf-8 -> 1007');
  console.log('ALL OK');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
