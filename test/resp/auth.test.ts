/**
 * Redis AUTH / HELLO … AUTH on herald's users (src/resp/commands/auth.ts over core/auth.ts):
 * byte-for-byte against redis-server 7.0 started with `--requirepass` and an ACL user limited to
 * channels `news.*` (herald: the same password as `requirepass`, and a herald user whose publish
 * and subscribe permissions allow `news.*`), in RESP2 and RESP3; then ioredis and node-redis
 * logging in with a plain and a bcrypt password, pipelined commands behind AUTH, and RESET.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { Server } from '../../src/index.js';
import type { AuthSettings, Permissions } from '../../src/core/auth.js';
import { RawResp, cmd, startHerald, startRedisServer, type RedisServerHandle } from './helpers.js';

const bcrypt = createRequire(import.meta.url)('bcryptjs') as { hashSync(p: string, cost: number): string };

const NEWS_ONLY: Permissions = {
  publish: { allow: [{ subject: 'news.*', queue: null }], deny: null },
  subscribe: { allow: [{ subject: 'news.*', queue: null }], deny: null },
  responses: null,
};

const AUTH: AuthSettings = {
  token: null,
  user: null,
  password: null,
  users: [
    { name: 'alice', password: 'pw', nkey: false, permissions: NEWS_ONLY },
    // Cost 4: the lowest bcrypt allows, so the test stays fast.
    { name: 'bob', password: bcrypt.hashSync('bpw', 4), nkey: false, permissions: null },
  ],
  noAuthUser: null,
};

/** Steps compared byte for byte: each sends one command and reads one frame. */
const STEPS: string[][] = [
  ['PING'],
  ['HELLO', '3'],
  ['HELLO'],
  ['FOO', 'x'],
  ['ECHO'],
  ['MULTI'],
  ['EXEC'],
  ['SUBSCRIBE', 'news.1'],
  ['AUTH', 'bad'],
  ['AUTH', 'default', 'bad'],
  ['AUTH', 'nobody', 'pw'],
  ['AUTH', 'a', 'b', 'c'],
  ['PING'],
  ['AUTH', 'sekret'],
  ['PING'],
  ['AUTH', 'alice', 'wrong'],
  ['ECHO', 'still logged in'],
  ['AUTH', 'alice', 'pw'],
  ['PUBLISH', 'news.1', 'x'],
  ['PUBLISH', 'other', 'x'],
  ['SPUBLISH', 'other', 'x'],
  ['SUBSCRIBE', 'other'],
  ['PSUBSCRIBE', '*'],
  ['MULTI'],
  ['PUBLISH', 'other', 'x'],
  ['PING'],
  ['EXEC'],
  ['RESET'],
  ['PING'],
  ['EXEC'],
  ['AUTH', 'default', 'sekret'],
  ['ECHO', 'back'],
];

describe('Redis AUTH', () => {
  let herald: Server;
  let redis: RedisServerHandle;
  before(async () => {
    [herald, redis] = await Promise.all([
      startHerald({ auth: AUTH }),
      startRedisServer(['--requirepass', 'sekret', '--user', 'alice', 'on', '>pw', '~*', '&news.*', '+@all']),
    ]);
    assert.equal(herald.redis!.config.set('requirepass', 'sekret'), null);
  });
  after(async () => {
    await Promise.all([herald?.close(), redis?.stop()]);
  });

  async function run(port: number, proto: 2 | 3): Promise<string[]> {
    const c = await RawResp.connect(port);
    const out: string[] = [];
    try {
      for (const s of STEPS) {
        // RESP3 once logged in: HELLO before that is refused (tested in the steps).
        if (proto === 3 && s[0] === 'AUTH' && s[1] === 'sekret') {
          c.send(cmd('HELLO', '3', 'AUTH', 'default', 'sekret'));
          await c.read(1);
        }
        c.send(cmd(...s));
        out.push(`${s.join(' ')} → ${(await c.read(1)).toString('latin1')}`);
      }
    } finally {
      c.close();
    }
    return out;
  }

  for (const proto of [2, 3] as const) {
    test(`RESP${proto}: NOAUTH, WRONGPASS, requirepass, a user limited to news.* (NOPERM), RESET logs out`, async () => {
      const want = await run(redis.port, proto);
      const got = await run(herald.redis!.port, proto);
      for (let i = 0; i < want.length; i++) assert.equal(JSON.stringify(got[i]), JSON.stringify(want[i]));
    });
  }

  test('pipelined commands behind AUTH run after the verdict, in order (bcrypt user)', async () => {
    const c = await RawResp.connect(herald.redis!.port);
    try {
      c.send(Buffer.concat([cmd('AUTH', 'bob', 'bpw'), cmd('PING'), cmd('AUTH', 'bob', 'no'), cmd('CLIENT', 'INFO')]));
      const r = (await c.read(4)).toString('latin1');
      assert.match(r, /^\+OK\r\n\+PONG\r\n-WRONGPASS [^\r]*\r\n\$\d+\r\nid=.* user=bob /);
      // AUTH queued in MULTI: the transaction goes on after the (possibly asynchronous) check.
      c.send(
        Buffer.concat([cmd('MULTI'), cmd('AUTH', 'alice', 'pw'), cmd('ECHO', 'after'), cmd('EXEC'), cmd('PUBLISH', 'x', 'y')]),
      );
      assert.equal(
        (await c.read(5)).toString('latin1'),
        '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$5\r\nafter\r\n-NOPERM this user has no permissions to access one of the channels used as arguments\r\n',
      );
    } finally {
      c.close();
    }
  });

  for (const protocol of [2, 3] as const) {
    test(`ioredis (protocol ${protocol}) and node-redis (RESP${protocol}) log in with username and password`, async () => {
      const port = herald.redis!.port;
      const io = new Redis({ port, host: '127.0.0.1', protocol, username: 'bob', password: 'bpw', maxRetriesPerRequest: 1 });
      const nr = createClient({ url: `redis://alice:pw@127.0.0.1:${port}`, RESP: protocol });
      await nr.connect();
      try {
        assert.equal(await io.ping(), 'PONG');
        assert.match((await io.client('INFO')) as string, / user=bob /);
        assert.equal(await nr.publish('news.a', 'x'), 0);
        await assert.rejects(nr.publish('sports', 'x'), /NOPERM/);
      } finally {
        io.disconnect();
        await nr.close();
      }
    });
  }
});
