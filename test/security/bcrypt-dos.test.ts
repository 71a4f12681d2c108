// F5: bcrypt work must not outlive the connection that asked for it, and one address must not be
// able to fill the worker's queue (src/core/bcrypt-pool.ts). Each test fails on the old pool,
// where every compare went straight to the worker's queue and ran even after its client left:
// the honest login then waited behind the whole flood and hit the auth timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { bcryptQueued } from '../../src/core/bcrypt-pool.js';
import { bcryptHash, redisPortOf, startHerald } from './helpers.js';
import { within } from '../helpers/bounded.js';

/** The attacked user's cost: 50–300 ms per compare on a 2-core machine, so a 100-login flood is
 * many seconds of worker time, well past the 2 s auth timeout. */
const COST = 10;
/** The honest user's cost: cheap, so its own compare is not what the test waits for. */
const HONEST_COST = 6;
const FLOOD = 100;
const CONF = `authorization {
  timeout: 2
  users = [
    { user: victim, password: "${bcryptHash('right', COST)}" }
    { user: honest, password: "${bcryptHash('honest-pw', HONEST_COST)}" }
  ]
}`;

/** Opens a socket from `localAddress`, waits for the first bytes when `greeting`, writes `line`. */
function openAndSend(port: number, line: string, opts: { greeting: boolean; end: boolean; localAddress?: string }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: opts.localAddress });
    s.on('error', () => undefined);
    const send = (): void => {
      if (opts.end) s.end(line);
      else s.write(line);
      resolve(s);
    };
    if (opts.greeting) s.once('data', send);
    else s.once('connect', send);
    s.once('close', () => reject(new Error('closed before sending')));
  });
}

function closed(s: net.Socket): Promise<void> {
  return s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));
}

/** Bounded wait until the bcrypt queue holds at most one compare (the one the worker may still run). */
async function queueDrained(ms: number): Promise<void> {
  const t0 = Date.now();
  while (bcryptQueued() > 1) {
    if (Date.now() - t0 > ms) assert.fail(`bcrypt queue still holds ${bcryptQueued()} compares ${ms} ms after their clients closed`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('NATS: wrong-password logins that hang up at once are dropped from the bcrypt queue; an honest user logs in within auth_timeout', async () => {
  const t = await startHerald(CONF);
  try {
    const flood = await Promise.all(
      Array.from({ length: FLOOD }, (_, i) =>
        openAndSend(t.port, `CONNECT {"verbose":false,"user":"victim","pass":"wrong-${i}"}\r\n`, { greeting: true, end: true }),
      ),
    );
    await within(Promise.all(flood.map(closed)), 10_000, 'the flood connections to close');
    await queueDrained(5_000);
    // The server's auth timeout (2 s) bounds this login: a late verdict closes it.
    const nc = await connect({ servers: t.url, user: 'honest', pass: 'honest-pw', timeout: 20_000, reconnect: false });
    await nc.flush();
    await nc.close();
  } finally {
    await t.stop();
  }
});

test('NATS: one address holding a flood of open wrong-password logins cannot starve an honest login from another address', async () => {
  const t = await startHerald(CONF);
  const flood: net.Socket[] = [];
  try {
    // 127.0.0.2 is loopback too on Linux: the attacker's address differs from the honest client's.
    for (let i = 0; i < FLOOD; i++) {
      flood.push(
        await openAndSend(t.port, `CONNECT {"verbose":false,"user":"victim","pass":"wrong-${i}"}\r\n`, {
          greeting: true,
          end: false,
          localAddress: '127.0.0.2',
        }),
      );
    }
    const queued = bcryptQueued();
    const nc = await connect({ servers: t.url, user: 'honest', pass: 'honest-pw', timeout: 20_000, reconnect: false });
    await nc.flush();
    await nc.close();
    assert.ok(queued <= 33, `one address queued ${queued} compares (cap 32 plus the running one)`);
  } finally {
    for (const s of flood) s.destroy();
    await t.stop();
  }
});

test('Redis: AUTH floods that hang up at once are dropped from the bcrypt queue; an honest AUTH then succeeds', async () => {
  const t = await startHerald(CONF, { redis: true });
  try {
    const port = redisPortOf(t);
    const flood = await Promise.all(
      Array.from({ length: FLOOD }, (_, i) => openAndSend(port, `AUTH victim wrong-${i}\r\n`, { greeting: false, end: true })),
    );
    await within(Promise.all(flood.map(closed)), 10_000, 'the flood connections to close');
    await queueDrained(5_000);
    const r = new Redis({ port, host: '127.0.0.1', username: 'honest', password: 'honest-pw', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await within(r.connect(), 5_000, 'the honest Redis login');
    assert.equal(await r.ping(), 'PONG');
    r.disconnect();
  } finally {
    await t.stop();
  }
});
