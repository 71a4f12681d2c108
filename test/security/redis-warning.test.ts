// Safe defaults for the Redis door: binding it (plain or TLS) to a non-loopback interface with no
// authentication logs a SECURITY WARNING naming the flags that fix it, as the NATS door does.
// Checked in the log of a child herald (bin/shim/nats-server -c conf).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHeraldChild } from '../helpers/herald-child.js';
import { makeTestCerts } from './tls-certs.js';

const WAIT_MS = 20_000;
const REDIS_WARNING = /SECURITY WARNING: the Redis door listens on a non-loopback interface WITHOUT authentication/;

/** The log of a child started with `conf`, once it says it is ready. */
async function logOf(conf: string): Promise<string> {
  const h = await startHeraldChild(conf);
  try {
    await h.waitLog(/herald is ready/, WAIT_MS, 'the ready line');
    return h.stderr();
  } finally {
    await h.stop();
  }
}

test('Redis door on 0.0.0.0 without auth: a loud warning naming --user/--pass and --auth', async () => {
  const log = await logOf('host: 0.0.0.0\nredis_port: -1');
  const line = log.split('\n').find((l) => REDIS_WARNING.test(l));
  assert.ok(line !== undefined, `no Redis SECURITY WARNING in:\n${log}`);
  assert.match(line, /\[WRN\]/);
  assert.match(line, /--user\/--pass or --auth/);
});

test('Redis TLS port alone on 0.0.0.0 without auth: the same warning', async () => {
  const certs = makeTestCerts();
  const log = await logOf(`host: 0.0.0.0
redis_tls { port: -1, cert_file: "${certs.server.cert}", key_file: "${certs.server.key}", auth_clients: no }`);
  assert.match(log, REDIS_WARNING);
});

test('no Redis warning with authentication, nor on loopback', async () => {
  assert.doesNotMatch(await logOf('host: 0.0.0.0\nredis_port: -1\nauthorization { token: s3cret }'), REDIS_WARNING);
  assert.doesNotMatch(await logOf('redis_port: -1'), REDIS_WARNING);
});
