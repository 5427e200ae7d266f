// Node `ws` as a server for netlab's client (interop tier); same behaviours
// as ws_py_server.py. Prints `listening on PORT`.
'use strict';
const WebSocket = require('ws');

const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 0 });
wss.on('listening', () => console.log(`listening on ${wss.address().port}`));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString('utf8');
    if (text === 'close-me') {
      ws.close(4001, 'bye');
    } else if (text === 'ping-me') {
      ws.once('pong', () => ws.send('ponged'));
      ws.ping('from node');
    } else if (text === 'fragment-me') {
      ws.send('frag', { fin: false });
      ws.send('men', { fin: false });
      ws.send('ted', { fin: false });
      ws.send(' ✓', { fin: true });
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});
