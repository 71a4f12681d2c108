// Which introspection commands a Redis user with permissions may run, decided from Redis 7.0's
// commands/*.json: CLIENT LIST and CLIENT KILL carry the ADMIN flag (so @admin and @dangerous),
// INFO is in @dangerous; CLIENT ID / INFO / SETNAME / GETNAME act on one's own connection and are
// in neither. herald refuses the first group to users with subject permissions; the reference is
// a redis-server 7.0 user with `+@all -@dangerous`, which must answer the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startHerald, redisPortOf } from './helpers.js';
import { redisServerAvailable, startRedisServer } from '../helpers/redis-server.js';
import { within } from '../helpers/bounded.js';

const WAIT_MS = 15_000;
const CONF = `authorization {
  users = [
    { user: lim, password: lpw, permissions: { publish: ["a.>"], subscribe: ["a.>"] } }
    { user: adm, password: apw }
  ]
}`;
/** The commands compared, and how each reply is reduced (the parts that differ per server dropped). */
const CASES: [string[], (reply: unknown) => string][] = [
  [['CLIENT', 'LIST'], (r) => (String(r).startsWith('id=') ? 'list' : String(r))],
  [['CLIENT', 'KILL', 'ID', '999999'], String],
  [['INFO'], (r) => (String(r).includes('redis_version') ? 'info' : String(r))],
  [['INFO', 'server'], (r) => (String(r).includes('redis_version') ? 'info' : String(r))],
  [['CLIENT', 'ID'], (r) => typeof r],
  [['CLIENT', 'INFO'], (r) => (String(r).startsWith('id=') ? 'own info' : String(r))],
  [['CLIENT', 'SETNAME', 'me'], String],
  [['CLIENT', 'GETNAME'], String],
];

async function answers(port: number, username: string, password: string): Promise<string[]> {
  const r = new Redis({ port, host: '127.0.0.1', username, password, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await within(r.connect(), WAIT_MS, `${username}'s login`);
    const out: string[] = [];
    for (const [cmd, reduce] of CASES) {
      out.push(await r.call(cmd[0]!, ...cmd.slice(1)).then(reduce, (e: Error) => e.message));
    }
    return out;
  } finally {
    r.disconnect();
  }
}

test('a user with permissions gets NOPERM for CLIENT LIST/KILL and INFO, not for its own CLIENT ID/INFO/SETNAME; as redis-server 7 with -@dangerous', async () => {
  const t = await startHerald(CONF, { redis: true });
  try {
    const port = redisPortOf(t);
    const lim = await answers(port, 'lim', 'lpw');
    assert.deepEqual(lim, [
      "NOPERM this user has no permissions to run the 'client|list' command",
      "NOPERM this user has no permissions to run the 'client|kill' command",
      "NOPERM this user has no permissions to run the 'info' command",
      "NOPERM this user has no permissions to run the 'info' command",
      'number',
      'own info',
      'OK',
      'me',
    ]);
    const adm = await answers(port, 'adm', 'apw');
    assert.deepEqual(adm, ['list', '0', 'info', 'info', 'number', 'own info', 'OK', 'me']);
  } finally {
    await t.stop();
  }
});

test('differential: redis-server 7 user +@all -@dangerous answers the same', { skip: redisServerAvailable() ? false : 'redis-server is not installed' }, async () => {
  const ref = await startRedisServer(['--user', 'lim', 'on', '>lpw', '~*', '&*', '+@all', '-@dangerous', '--user', 'adm', 'on', '>apw', '~*', '&*', '+@all']);
  const t = await startHerald(CONF, { redis: true });
  try {
    assert.deepEqual(await answers(redisPortOf(t), 'lim', 'lpw'), await answers(ref.port, 'lim', 'lpw'));
    assert.deepEqual(await answers(redisPortOf(t), 'adm', 'apw'), await answers(ref.port, 'adm', 'apw'));
  } finally {
    await t.stop();
    await ref.stop();
  }
});
