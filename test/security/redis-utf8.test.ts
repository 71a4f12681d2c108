/**
 * Non-ASCII passwords work on the Redis door as on the NATS door (second security review: AUTH
 * read the password as latin1 and compared it with the UTF-8 config text, so such a user could
 * never log in over Redis). A herald user's password is compared as UTF-8; a requirepass set by
 * CONFIG SET keeps Redis's byte semantics.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect } from '@nats-io/transport-node';
import { redisPortOf, startHerald, type Target } from './helpers.js';

const PASSWORD = 'pässwörd-日本';
let h: Target;
before(async () => {
  h = await startHerald(`authorization { users: [ { user: "jürgen", password: "${PASSWORD}" } ] }`, { redis: true });
});
after(() => h.stop());

test('a UTF-8 user and password log in over NATS and over Redis AUTH and HELLO AUTH', async () => {
  const nc = await connect({ port: h.port, user: 'jürgen', pass: PASSWORD });
  await nc.close();
  // ioredis logs in with AUTH <user> <pass> as it connects.
  const r = new Redis({
    port: redisPortOf(h),
    host: '127.0.0.1',
    username: 'jürgen',
    password: PASSWORD,
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  try {
    await r.connect();
    assert.equal(await r.call('AUTH', 'jürgen', PASSWORD), 'OK');
    await assert.rejects(r.call('AUTH', 'jürgen', 'passwort'), /WRONGPASS/);
    const hello = (await r.call('HELLO', '2', 'AUTH', 'jürgen', PASSWORD)) as unknown[];
    assert.ok(Array.isArray(hello) && hello.includes('proto'), `HELLO AUTH failed: ${JSON.stringify(hello)}`);
  } finally {
    r.disconnect();
  }
});
