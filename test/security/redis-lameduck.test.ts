// Lame duck reaches the Redis door (src/server.ts enterLameDuckMode, src/lame-duck.ts): its plain
// and TLS ports stop accepting, and its clients are closed in the same spread over the lame-duck
// duration as NATS clients (Redis has no ldm notice; its clients reconnect elsewhere).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Server } from '../../src/index.js';
import { within } from '../helpers/bounded.js';
import { connectionRefused } from '../helpers/raw.js';
import { redisPortOf, startHerald } from './helpers.js';
import { makeTestCerts } from './tls-certs.js';

const WAIT_MS = 30_000;


/** A client that does not reconnect; `ended` resolves when the server closed it. */
async function client(opts: RedisOptions): Promise<{ r: Redis; ended: Promise<void> }> {
  const r = new Redis({ ...opts, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => r.once('end', () => resolve()));
  await within(r.connect(), WAIT_MS, 'ioredis connect');
  return { r, ended };
}

test('lame duck: the Redis plain and TLS ports stop accepting; Redis clients stay through the grace period, then are closed', async () => {
  const certs = makeTestCerts();
  const t = await startHerald(`redis_tls { port: -1, cert_file: "${certs.server.cert}", key_file: "${certs.server.key}", auth_clients: no }`, {
    redis: true,
    extra: { lameDuckDurationMs: 3000, lameDuckGracePeriodMs: 1000 },
  });
  const s = t.herald as Server;
  try {
    const port = redisPortOf(t);
    const tlsPort = Number(new URL(s.redisTlsUrl as string).port);
    const plain = await client({ port });
    const sub = await client({ port });
    const secure = await client({ port: tlsPort, tls: { ca: readFileSync(certs.ca), servername: 'localhost' } });
    await sub.r.subscribe('news');

    const done = s.enterLameDuckMode();
    assert.equal(await connectionRefused(port), true, 'the Redis port refuses new connections in lame-duck mode');
    assert.equal(await connectionRefused(tlsPort), true, 'the Redis TLS port refuses new connections in lame-duck mode');
    // Still inside the grace period (1 s): existing clients are served, closes come later.
    assert.equal(await plain.r.ping(), 'PONG');
    assert.equal(await secure.r.ping(), 'PONG');
    await within(Promise.all([plain.ended, sub.ended, secure.ended]), WAIT_MS, 'every Redis client to be closed by lame duck');
    await within(done, WAIT_MS, 'lame-duck mode ends with the server closed');
  } finally {
    await t.stop();
  }
});
