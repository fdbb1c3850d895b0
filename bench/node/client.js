// The load generator of bench/fanout.py, the same for every server it measures.
// Opens COUNT WebSocket connections to ws://127.0.0.1:PORT/ws/updates, subscribes each
// to signals:detected, prints "ready" once every one is subscribed, and records for
// each detection received its `bench_n` and the time since its `sent_at` (seconds,
// wall clock, set by the publisher just before its POST). "mark" on stdin restarts the
// CPU count; "stop" prints one JSON line: {"n", "latency_s", "cpu_s", "closed"}.
//
// It speaks RFC 6455 over plain `net` sockets instead of the `ws` package's client:
// the client's cost per message is the benchmark's floor (all three servers are read
// by it), and a stream-based client spent ~17 µs a message, which at 2,000 subscribers
// put 30+ ms of the client's own queueing into every server's p99.
// Usage: node client.js PORT COUNT [TOPIC]   (TOPIC: signals:detected by default; bench/feed.py
// subscribes to a platform event passed through, training:progress)
'use strict';
const net = require('net');
const crypto = require('crypto');
const { performance } = require('perf_hooks');
const readline = require('readline');

const port = Number(process.argv[2]);
const count = Number(process.argv[3]);
const topic = process.argv[4] || 'signals:detected';
const BATCH = 100; // connections opened at once: the server's accept backlog is finite

const ns = [];
const latencies = [];
let subscribed = 0;
let closed = 0;
const sockets = [];

function nowSeconds() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

function clientFrame(opcode, payload) {
  // A client frame must be masked (RFC 6455 5.3); payloads here are short.
  const mask = crypto.randomBytes(4);
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, 0x80 | payload.length])
    : Buffer.from([0x80 | opcode, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i += 1) body[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

const SUBSCRIBE = Buffer.from(JSON.stringify({ event: 'subscribe', data: { events: [topic] } }));

function onText(text) {
  const received = nowSeconds();
  const message = JSON.parse(text);
  if (message.event === topic) {
    ns.push(message.data.bench_n);
    latencies.push(received - message.data.sent_at);
  } else if (message.event === 'subscribed') {
    subscribed += 1;
    if (subscribed === count) console.log('ready');
  }
}

function openOne() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let open = false;
    socket.on('connect', () => {
      socket.write(`GET /ws/updates HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n`
        + `Connection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n`
        + 'Sec-WebSocket-Version: 13\r\n\r\n');
    });
    socket.on('error', reject);
    socket.on('close', () => { closed += 1; });
    socket.on('data', (chunk) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      if (!open) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = buffer.subarray(0, buffer.indexOf('\r\n')).toString();
        if (!status.includes(' 101 ')) {
          reject(new Error(status));
          return;
        }
        buffer = buffer.subarray(end + 4);
        open = true;
        socket.write(clientFrame(0x1, SUBSCRIBE));
        resolve(socket);
      }
      let pos = 0;
      while (buffer.length - pos >= 2) {
        const opcode = buffer[pos] & 0x0f;
        let n = buffer[pos + 1] & 0x7f;
        let head = 2;
        if (n === 126) {
          if (buffer.length - pos < 4) break;
          n = buffer.readUInt16BE(pos + 2);
          head = 4;
        } else if (n === 127) {
          if (buffer.length - pos < 10) break;
          n = Number(buffer.readBigUInt64BE(pos + 2));
          head = 10;
        }
        if (buffer.length - pos < head + n) break;
        const payload = buffer.subarray(pos + head, pos + head + n);
        pos += head + n;
        if (opcode === 0x1) onText(payload.toString('utf8'));
        else if (opcode === 0x9) socket.write(clientFrame(0xa, payload));
        else if (opcode === 0x8) socket.end();
      }
      buffer = pos === buffer.length ? Buffer.alloc(0) : buffer.subarray(pos);
    });
  });
}

async function main() {
  for (let start = 0; start < count; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + BATCH); i += 1) batch.push(openOne());
    sockets.push(...(await Promise.all(batch)));
  }
  let cpuAtStart = process.cpuUsage();
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'mark') {
      cpuAtStart = process.cpuUsage();
      console.log('marked');
    } else if (line.trim() === 'stop') {
      const cpu = process.cpuUsage(cpuAtStart);
      const report = JSON.stringify({ n: ns, latency_s: latencies, cpu_s: (cpu.user + cpu.system) / 1e6, closed });
      for (const socket of sockets) socket.destroy();
      // Writes to a pipe are asynchronous in Node: exit once the whole report is out.
      process.stdout.write(report + '\n', () => process.exit(0));
    }
  });
}

main().catch((err) => {
  console.error(`client failed: ${err.message}`);
  process.exit(1);
});
