// TLS on the Redis door (redis_tls { } with Redis's tls-* names), with ioredis `tls: {}` and
// `redis-cli --tls`, the same expectations on herald and on the real redis-server started with
// the same certificates (--tls-port, --tls-cert-file, --tls-key-file, --tls-ca-cert-file,
// --tls-auth-clients): TLS from the first byte, client certificates required by default.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Server } from '../../src/index.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { loadConfigFile } from '../../src/config/load.js';
import { freePort } from '../helpers/nats-server.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { within } from '../helpers/bounded.js';
import { writeConf } from './helpers.js';
import { makeTestCerts, type CertPair, type TestCerts } from './tls-certs.js';

const WAIT = 5000;
let certs: TestCerts;
before(() => {
  certs = makeTestCerts();
});
after(() => certs.remove());

/** A server with a plaintext Redis port and a TLS one. */
interface RedisTarget {
  tlsPort: number;
  stop(): Promise<void>;
}

async function startHeraldRedis(authClients: string): Promise<RedisTarget> {
  const { file, dir } = writeConf(`redis_tls {
  tls-port: -1
  tls-cert-file: "${certs.server.cert}"
  tls-key-file: "${certs.server.key}"
  tls-ca-cert-file: "${certs.ca}"
  tls-auth-clients: ${authClients}
}
`);
  const { options } = loadConfigFile(file, defaultOptions('herald'));
  const data = mkdtempSync(join(tmpdir(), 'herald-tls-redis-'));
  const s = await Server.start({
    ...options,
    port: 0,
    httpPort: null,
    redisPort: 0,
    dataDir: data,
    jetstream: false,
    logLevel: 'silent',
  });
  return {
    tlsPort: s.redis!.tlsPort,
    stop: async () => {
      await s.close();
      rmSync(data, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startReferenceRedis(authClients: string): Promise<RedisTarget> {
  const tlsPort = await freePort();
  const r = await startRedisServer([
    '--tls-port',
    String(tlsPort),
    '--tls-cert-file',
    certs.server.cert,
    '--tls-key-file',
    certs.server.key,
    '--tls-ca-cert-file',
    certs.ca,
    '--tls-auth-clients',
    authClients,
  ]);
  return { tlsPort, stop: () => r.stop() };
}

/** PING over TLS with ioredis; returns the reply or the error's message prefixed with 'error:'. */
async function ping(port: number, who: CertPair | null): Promise<string> {
  const tls: Record<string, unknown> = { ca: readFileSync(certs.ca), servername: 'localhost' };
  if (who !== null) Object.assign(tls, { cert: readFileSync(who.cert), key: readFileSync(who.key) });
  const r = new Redis({ host: '127.0.0.1', port, tls, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await within(r.connect(), WAIT, 'ioredis connect');
    return await within(r.ping(), WAIT, 'PING');
  } catch (err) {
    return `error: ${(err as Error).message}`;
  } finally {
    r.disconnect();
  }
}

/** Publish/subscribe over TLS: what the subscriber receives. */
async function pubsub(port: number, who: CertPair): Promise<string> {
  const tls = { ca: readFileSync(certs.ca), servername: 'localhost', cert: readFileSync(who.cert), key: readFileSync(who.key) };
  const sub = new Redis({ host: '127.0.0.1', port, tls });
  const pub = new Redis({ host: '127.0.0.1', port, tls });
  try {
    const got = new Promise<string>((resolve) => sub.on('message', (_ch: string, m: string) => resolve(m)));
    await within(sub.subscribe('tls.news'), WAIT, 'SUBSCRIBE');
    await within(pub.publish('tls.news', 'encrypted'), WAIT, 'PUBLISH');
    return await within(got, WAIT, 'message');
  } finally {
    sub.disconnect();
    pub.disconnect();
  }
}

/** `redis-cli --tls … PING`: its stdout, or 'error' when it fails. */
function redisCliPing(port: number, who: CertPair): Promise<string> {
  const args = [
    '--tls',
    '--cacert',
    certs.ca,
    '--cert',
    who.cert,
    '--key',
    who.key,
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    'PING',
  ];
  return new Promise((resolve) => {
    execFile('redis-cli', args, { timeout: WAIT }, (err, stdout) => resolve(err === null ? stdout.trim() : 'error'));
  });
}

const STARTS: [string, (authClients: string) => Promise<RedisTarget>][] = [
  ['herald', startHeraldRedis],
  ['redis-server', startReferenceRedis],
];

for (const [name, start] of STARTS) {
  describe(`Redis door TLS: ${name}`, () => {
    test('tls-auth-clients yes (default): a client certificate is required', async () => {
      const t = await start('yes');
      try {
        assert.equal(await ping(t.tlsPort, certs.alice), 'PONG');
        assert.match(await ping(t.tlsPort, null), /^error:/);
        assert.match(await ping(t.tlsPort, certs.rogue), /^error:/);
        assert.equal(await pubsub(t.tlsPort, certs.bob), 'encrypted');
        assert.equal(await redisCliPing(t.tlsPort, certs.alice), 'PONG');
      } finally {
        await t.stop();
      }
    });

    test('tls-auth-clients no / optional: server-only TLS works; optional still refuses a certificate of another CA', async () => {
      for (const mode of ['no', 'optional']) {
        const t = await start(mode);
        try {
          assert.equal(await ping(t.tlsPort, null), 'PONG', mode);
          if (mode === 'optional') {
            assert.equal(await ping(t.tlsPort, certs.alice), 'PONG');
            assert.match(await ping(t.tlsPort, certs.rogue), /^error:/);
          }
        } finally {
          await t.stop();
        }
      }
    });
  });
}

test('redis_tls config errors name the key', () => {
  const bad = (conf: string, re: RegExp): void => {
    const { file, dir } = writeConf(conf);
    try {
      assert.throws(() => loadConfigFile(file, defaultOptions('herald')), re);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  bad(`redis_tls { port: 6380 }`, /redis_tls: needs 'cert_file' and 'key_file'/);
  bad(
    `redis_tls { port: 6380, cert_file: "${certs.server.cert}", key_file: "${certs.server.key}" }`,
    /auth_clients .* 'ca_file'/,
  );
  bad(`redis_tls { cert_file: x }`, /redis_tls: the redis_tls block needs 'port'/);
  bad(`redis_tls { port: 1, tls-auth-clients: maybe }`, /tls-auth-clients: expected yes, no or optional/);
});
