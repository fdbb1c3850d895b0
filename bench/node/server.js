// The Node peer of bench/fanout.py: the `ws` package's server doing the same job as
// /ws/updates at its simplest. POST /api/v1/signals wraps the body in an envelope,
// serializes it once and sends it to every connection subscribed to signals:detected.
// Usage: node server.js PORT   (prints "listening PORT" when ready)
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 0);
const subscribers = new Set();
let seq = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/api/v1/signals') {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let data;
      try {
        data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":"bad json"}');
        return;
      }
      seq += 1;
      const wire = JSON.stringify({ event: 'signals:detected', data, timestamp: new Date().toISOString(), seq });
      for (const ws of subscribers) ws.send(wire);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ seq }));
    });
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":"not found"}');
});

const wss = new WebSocketServer({ server, path: '/ws/updates', perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (raw) => {
    let message;
    try {
      message = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return;
    }
    if (message.event === 'subscribe') {
      subscribers.add(ws);
      ws.send(JSON.stringify({ event: 'subscribed', data: message.data, timestamp: new Date().toISOString(), seq }));
    }
  });
  ws.on('close', () => subscribers.delete(ws));
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
