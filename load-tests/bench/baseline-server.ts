import http from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

/**
 * The baseline of the fan-out benchmark: what a user would otherwise pick.
 * Plain Socket.IO 4.8 on node:http with the CLASSIC Redis adapter
 * (`createAdapter`, PUBLISH/SUBSCRIBE: every node receives every broadcast),
 * no auth, no database: every socket joins the one room `author`.
 *
 *   GET  /readyz  200 once Redis answers
 *   GET  /memory  {rss, heapUsed, external} of process.memoryUsage()
 *   POST /tweet   body: a tweet object (the harness sends a real Flock tweet as the template);
 *                 stamps a fresh id and createdAt, answers 201 {id, createdAt}, then emits
 *                 `tweet` {id, tweet} to the room
 *
 * Settings: PORT, REDIS_URL, NODE_ID (part of the ids), all required.
 * Run: node --import tsx load-tests/bench/baseline-server.ts
 */

const { PORT, REDIS_URL, NODE_ID } = process.env;
if (!PORT || !REDIS_URL || !NODE_ID) {
  process.stderr.write('baseline-server: set PORT, REDIS_URL and NODE_ID\n');
  process.exit(2);
}

const pub = new Redis(REDIS_URL);
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on('error', (err: Error) => process.stderr.write(`baseline-server redis error: ${err.message}\n`));

let seq = 0;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const httpServer = http.createServer((req, res) => {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  if (req.method === 'GET' && req.url === '/readyz') {
    pub.ping().then(
      () => reply(200, { ok: true }),
      (err: Error) => reply(503, { ok: false, error: err.message }),
    );
    return;
  }
  if (req.method === 'GET' && req.url === '/memory') {
    const { rss, heapUsed, external } = process.memoryUsage();
    reply(200, { rss, heapUsed, external });
    return;
  }
  if (req.method === 'POST' && req.url === '/tweet') {
    readBody(req)
      .then((text) => {
        const template = JSON.parse(text) as Record<string, unknown>;
        const id = `b${NODE_ID}-${++seq}`;
        const tweet = { ...template, id, createdAt: new Date().toISOString() };
        // Answer first, as Flock does (its push runs after the response): the poster is not held up by the broadcast.
        reply(201, { id, createdAt: tweet.createdAt });
        io.to('author').emit('tweet', { id, tweet });
      })
      .catch((err: Error) => reply(400, { error: err.message }));
    return;
  }
  reply(404, { error: 'not found' });
});

const io = new Server(httpServer, { serveClient: false, adapter: createAdapter(pub, sub) });
io.on('connection', (socket) => void socket.join('author'));

httpServer.listen(Number(PORT), '127.0.0.1');

process.once('SIGTERM', () => {
  io.close(() => {
    pub.disconnect();
    sub.disconnect();
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 5000).unref();
});
