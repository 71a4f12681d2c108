// Lame duck reaches the Redis door (src/server.ts enterLameDuckMode, src/lame-duck.ts): its plain
// and TLS ports stop accepting, and its clients are closed in the same spread over the lame-duck
// duration as NATS clients (Redis has no ldm notice; its clients reconnect elsewhere).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { Server } from '../../src/index.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { loadConfigFile } from '../../src/config/load.js';
import { within } from '../helpers/bounded.js';
import { writeConf } from './helpers.js';
import { makeTestCerts } from './tls-certs.js';

const WAIT_MS = 30_000;

function refused(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      r(false);
    });
    s.once('error', () => r(true));
  });
}

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
  const { file, dir } = writeConf(`redis_tls { port: -1, cert_file: "${certs.server.cert}", key_file: "${certs.server.key}", auth_clients: no }`);
  const { options } = loadConfigFile(file, defaultOptions('herald'));
  const s = await Server.start({
    ...options,
    port: 0,
    httpPort: null,
    redisPort: 0,
    dataDir: join(dir, 'data'),
    jetstream: false,
    logLevel: 'silent',
    lameDuckDurationMs: 3000,
    lameDuckGracePeriodMs: 1000,
  });
  try {
    const port = Number(new URL(s.redisUrl as string).port);
    const tlsPort = Number(new URL(s.redisTlsUrl as string).port);
    const plain = await client({ port });
    const sub = await client({ port });
    const secure = await client({ port: tlsPort, tls: { ca: readFileSync(certs.ca), servername: 'localhost' } });
    await sub.r.subscribe('news');

    const done = s.enterLameDuckMode();
    assert.equal(await refused(port), true, 'the Redis port refuses new connections in lame-duck mode');
    assert.equal(await refused(tlsPort), true, 'the Redis TLS port refuses new connections in lame-duck mode');
    // Still inside the grace period (1 s): existing clients are served, closes come later.
    assert.equal(await plain.r.ping(), 'PONG');
    assert.equal(await secure.r.ping(), 'PONG');
    await within(Promise.all([plain.ended, sub.ended, secure.ended]), WAIT_MS, 'every Redis client to be closed by lame duck');
    await within(done, WAIT_MS, 'lame-duck mode ends with the server closed');
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
