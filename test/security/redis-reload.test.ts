// F7: a config reload reaches the Redis door (src/resp/reload.ts), as Redis 7.0's acl.c treats
// clients whose user changes: a removed user's client and a client whose password changed are
// closed; a client whose permissions shrank keeps its login with the new permissions, and is
// closed when one of its subscriptions is no longer allowed (ACLKillPubsubClientsIfNeeded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Server } from '../../src/index.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { loadConfigFile } from '../../src/config/load.js';
import { bcryptHash, redisPortOf, startHerald, writeConf } from './helpers.js';
import { within } from '../helpers/bounded.js';
import { RawConnection } from '../helpers/raw.js';

const WAIT_MS = 15_000;

const BEFORE = `authorization {
  users = [
    { user: alice, password: apw, permissions: { publish: ["foo", "bar"], subscribe: ["foo", "bar"] } }
    { user: bob, password: bpw }
    { user: carl, password: "${bcryptHash('cpw')}" }
    { user: erin, password: epw, permissions: { subscribe: ["x.>"] } }
  ]
}`;
const AFTER = `authorization {
  users = [
    { user: alice, password: apw, permissions: { publish: ["foo"], subscribe: ["foo"] } }
    { user: carl, password: "${bcryptHash('cpw2')}" }
    { user: erin, password: epw, permissions: { subscribe: ["x.>"] } }
    { user: dave, password: dpw }
  ]
}`;

function authOf(conf: string): ReturnType<typeof loadConfigFile>['options']['auth'] {
  const { file, dir } = writeConf(conf);
  try {
    return loadConfigFile(file, defaultOptions('herald')).options.auth;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An ioredis client that does not reconnect, so a server-side close stays visible. */
async function login(port: number, username: string, password: string): Promise<{ r: Redis; ended: Promise<void> }> {
  const r = new Redis({ port, host: '127.0.0.1', username, password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  const ended = new Promise<void>((resolve) => r.once('end', () => resolve()));
  await within(r.connect(), WAIT_MS, `${username}'s login`);
  return { r, ended };
}

test('reload: Redis clients of removed users and changed passwords are closed; shrunk permissions apply, and a subscription they no longer allow closes its client', async () => {
  const t = await startHerald(BEFORE, { redis: true });
  const s = t.herald as Server;
  const clients: Redis[] = [];
  try {
    const port = redisPortOf(t);
    const aliceSub = await login(port, 'alice', 'apw');
    const alice = await login(port, 'alice', 'apw');
    const bob = await login(port, 'bob', 'bpw');
    const carl = await login(port, 'carl', 'cpw');
    const erin = await login(port, 'erin', 'epw');
    clients.push(aliceSub.r, alice.r, bob.r, carl.r, erin.r);
    await aliceSub.r.subscribe('bar');
    const erinGot: string[] = [];
    erin.r.on('message', (_ch: string, m: string) => erinGot.push(m));
    await erin.r.subscribe('x.1');
    assert.equal(await alice.r.publish('bar', 'before'), 1, 'alice may publish to bar before the reload');

    const changed = await s.reload({ ...s.options, auth: authOf(AFTER) });
    assert.deepEqual(changed, ['auth']);

    await within(bob.ended, WAIT_MS, 'the removed user bob to be closed');
    await within(carl.ended, WAIT_MS, "carl's client (password changed) to be closed");
    await within(aliceSub.ended, WAIT_MS, "alice's subscriber to bar (no longer allowed) to be closed");

    // alice's other client stays, under the new permissions.
    await assert.rejects(alice.r.publish('bar', 'after'), /NOPERM this user has no permissions to access one of the channels used as arguments/);
    assert.equal(await alice.r.publish('x.1', 'hello erin').catch((e: Error) => e.message), 'NOPERM this user has no permissions to access one of the channels used as arguments');
    // erin's permissions did not change: her subscription still delivers.
    const dave = await login(port, 'dave', 'dpw');
    clients.push(dave.r);
    assert.equal(await dave.r.publish('x.1', 'after reload'), 1);
    const t0 = Date.now();
    while (!erinGot.includes('after reload') && Date.now() - t0 < WAIT_MS) await new Promise((r) => setTimeout(r, 20));
    assert.ok(erinGot.includes('after reload'), "erin's subscription still delivers after the reload");
    // The new password works, the old one does not.
    const carl2 = await login(port, 'carl', 'cpw2');
    clients.push(carl2.r);
    const raw = await RawConnection.connect(port);
    raw.write('AUTH bob bpw\r\n');
    assert.ok(await raw.waitFor((d) => d.includes(0x0a), WAIT_MS), 'a reply to AUTH bob');
    raw.destroy();
    assert.equal(raw.data.toString(), '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    // A new SUBSCRIBE is checked against the new permissions.
    await assert.rejects(alice.r.subscribe('bar'), /NOPERM/);
  } finally {
    for (const c of clients) c.disconnect();
    await t.stop();
  }
});
