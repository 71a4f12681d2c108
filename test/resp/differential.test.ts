/**
 * Differential tests of the Redis door (DESIGN.md "Compatibility is tested, not assumed"): a table
 * of command scripts, each run against herald and against a real redis-server (7.0.x from Debian,
 * started here on a random port), in RESP2 and in RESP3 (after `HELLO 3`), with every reply
 * compared byte for byte. Steps whose replies carry server-specific values (ids, versions,
 * counts of commands) are not in the table; test/resp/clients.test.ts checks those by shape.
 * Where Redis 7.2+ differs from the 7.0 binary the test runs, the step is left out and the 7.2
 * behaviour is tested on its own in test/resp/pubsub.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawResp, cmd, withBothServers } from './helpers.js';
import { STREAM_SCRIPTS } from './streams-scripts.js';

interface Step {
  /** Which connection sends (default 0). */
  c?: number;
  send: Buffer;
  /** Frames the sender reads. */
  frames: number;
  /** Other connections that receive frames because of this step (e.g. messages). */
  also?: { c: number; frames: number }[];
  /** The server closes the sender's connection after the reply. */
  closes?: boolean;
  /** After sending, wait until the server's INFO counts this many blocked clients: commands on
   * different connections have no order, so a later step must not overtake a BLOCK (not compared). */
  blocked?: number;
}

interface Script {
  name: string;
  conns?: number;
  /** Run only in this protocol (default: both). */
  only?: 2 | 3;
  steps: Step[];
}

const r = (...args: string[]): Step => ({ send: cmd(...args), frames: 1 });
const on = (c: number, s: Step): Step => ({ ...s, c });
/** A (p)(un)subscribe with n names: one event per name (or one for none). */
const ev = (...args: string[]): Step => ({ send: cmd(...args), frames: Math.max(1, args.length - 1) });
const raw = (bytes: string, frames: number, closes = false): Step => ({ send: Buffer.from(bytes, 'latin1'), frames, closes });

const SCRIPTS: Script[] = [
  {
    name: 'PING and ECHO',
    steps: [r('PING'), r('ping', 'hello'), r('PING', 'a', 'b'), r('ECHO', 'x y'), r('ECHO'), r('ECHO', 'a', 'b'), r('echo', '')],
  },
  {
    name: 'unknown commands and arity',
    steps: [
      r('FOO'),
      r('FOO', 'a', 'b', 'c'),
      r('nosuchcmd', 'k'),
      r('xyz', 'a'.repeat(200), 'b'),
      r('xyz', ...Array.from({ length: 40 }, (_, i) => `arg${i}`)),
      r('n'.repeat(300)),
      r('FOO', 'line\r\nbreak'),
      r('FOO', 'nul\u0000byte', 'x'),
      r('SELECT'),
      r('SELECT', '1', '2'),
      r('RESET', 'x'),
      r('CLIENT'),
      r('CONFIG'),
      r('PUBLISH', 'a'),
    ],
  },
  {
    name: 'SELECT',
    steps: [
      r('SELECT', '0'),
      r('SELECT', '15'),
      r('SELECT', '16'),
      r('SELECT', '-1'),
      r('SELECT', 'x'),
      r('SELECT', '01'),
      r('SELECT', '99999999999999999999'),
      r('DBSIZE'),
    ],
  },
  {
    name: 'CLIENT',
    steps: [
      r('CLIENT', 'FOO'),
      r('client', 'nosuch', 'x'),
      r('CLIENT', 'GETNAME'),
      r('CLIENT', 'SETNAME', 'worker-1'),
      r('CLIENT', 'GETNAME'),
      r('CLIENT', 'SETNAME', 'a b'),
      r('CLIENT', 'SETNAME', 'a\nb'),
      r('CLIENT', 'SETNAME', ''),
      r('CLIENT', 'GETNAME'),
      r('CLIENT', 'SETNAME'),
      r('CLIENT', 'GETNAME', 'x'),
      r('CLIENT', 'ID', 'x'),
      r('CLIENT', 'KILL', '1.2.3.4:5'),
      r('CLIENT', 'KILL', 'ID', '999999'),
      r('CLIENT', 'KILL', 'TYPE', 'nosuch'),
      r('CLIENT', 'KILL', 'ADDR', '1.2.3.4:5', 'SKIPME', 'no'),
      r('CLIENT', 'KILL', 'ID'),
    ],
  },
  {
    name: 'HELLO and AUTH errors',
    steps: [
      r('HELLO', '4'),
      r('HELLO', '1'),
      r('HELLO', 'x'),
      r('HELLO', '03'),
      r('HELLO', '3', 'FOO'),
      r('HELLO', '3', 'AUTH', 'default'),
      r('HELLO', '3', 'AUTH', 'bob', 'pw'),
      r('HELLO', '3', 'SETNAME', 'a b'),
      r('AUTH', 'pw'),
      r('AUTH', 'default', 'pw'),
      r('AUTH', 'bob', 'pw'),
      r('AUTH', 'a', 'b', 'c'),
      r('AUTH'),
    ],
  },
  {
    name: 'CONFIG',
    steps: [
      r('CONFIG', 'GET', 'databases'),
      r('CONFIG', 'GET', 'maxmemory'),
      r('CONFIG', 'GET', 'maxmemory-policy'),
      r('CONFIG', 'GET', 'notify-keyspace-events'),
      r('CONFIG', 'GET', 'stream-node-max-entries'),
      r('CONFIG', 'GET', 'stream-node-max-bytes'),
      r('CONFIG', 'GET', 'save'),
      r('CONFIG', 'GET', 'appendonly'),
      r('CONFIG', 'GET', 'client-output-buffer-limit'),
      r('CONFIG', 'GET', 'nosuch'),
      r('CONFIG', 'GET', 'DATABASES'),
      r('CONFIG', 'GET'),
      r('CONFIG', 'SET', 'nosuch', '1'),
      r('CONFIG', 'SET', 'maxmemory'),
      r('CONFIG', 'SET', 'maxmemory', '0', 'timeout'),
      r('CONFIG', 'SET', 'stream-node-max-entries', '50'),
      r('CONFIG', 'GET', 'stream-node-max-entries'),
      r('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 64mb 16mb 30'),
      r('CONFIG', 'GET', 'client-output-buffer-limit'),
      r('CONFIG', 'RESETSTAT'),
      r('CONFIG', 'RESETSTAT', 'x'),
      r('CONFIG', 'NOSUCH'),
    ],
  },
  {
    name: 'generic keyspace commands on an empty keyspace',
    steps: [
      r('DEL', 'a'),
      r('DEL', 'a', 'b'),
      r('EXISTS', 'a', 'a'),
      r('TYPE', 'a'),
      r('DBSIZE'),
      r('DBSIZE', 'x'),
      r('FLUSHDB'),
      r('FLUSHDB', 'ASYNC'),
      r('FLUSHALL', 'sync'),
      r('FLUSHALL', 'foo'),
      r('FLUSHALL', 'sync', 'x'),
      r('FUNCTION', 'FLUSH'),
      r('FUNCTION', 'FLUSH', 'nope'),
    ],
  },
  {
    name: 'subscribed context (RESP2 rules, RESP3 free)',
    steps: [
      ev('SUBSCRIBE', 'a', 'b', 'a'),
      r('PING'),
      r('PING', 'x'),
      r('ECHO', 'x'),
      r('nosuchcmd', 'x'),
      r('PUBSUB', 'NUMSUB', 'a'),
      r('SUBSCRIBE'),
      ev('PSUBSCRIBE', 'p*', 'q?'),
      ev('UNSUBSCRIBE', 'b', 'c'),
      ev('PUNSUBSCRIBE', 'q?'),
      ev('PUNSUBSCRIBE'),
      ev('UNSUBSCRIBE'),
      ev('UNSUBSCRIBE'),
      ev('PUNSUBSCRIBE'),
      r('PING'),
      r('ECHO', 'x'),
    ],
  },
  {
    name: 'RESET leaves subscribed context',
    steps: [ev('SUBSCRIBE', 'a'), r('SELECT', '3'), r('RESET'), r('ECHO', 'back'), r('PUBSUB', 'NUMSUB', 'a')],
  },
  {
    name: 'PUBLISH counts channel and pattern receivers',
    conns: 3,
    steps: [
      ev('SUBSCRIBE', 'news.1'),
      // One pattern per client: the order of one client's pattern matches is Redis's dict order.
      ev('PSUBSCRIBE', 'n*'),
      on(1, ev('SUBSCRIBE', 'news.1', 'other')),
      on(1, ev('PSUBSCRIBE', 'news.*')),
      on(2, {
        ...r('PUBLISH', 'news.1', 'hi'),
        also: [
          { c: 0, frames: 2 },
          { c: 1, frames: 2 },
        ],
      }),
      on(2, { ...r('PUBLISH', 'other', 'x'), also: [{ c: 1, frames: 1 }] }),
      on(2, { ...r('PUBLISH', 'nope', 'x'), also: [{ c: 0, frames: 1 }] }),
      on(2, r('PUBLISH', 'zzz', 'x')),
      on(2, r('PUBSUB', 'NUMSUB', 'news.1', 'other', 'nope')),
      on(2, r('PUBSUB', 'NUMSUB')),
      on(2, r('PUBSUB', 'NUMPAT')),
      on(2, r('PUBSUB', 'CHANNELS', 'o*')),
      on(2, r('PUBSUB', 'CHANNELS', 'x', 'y')),
      on(2, r('PUBSUB', 'NUMPAT', 'x')),
      on(2, r('PUBSUB', 'FOO')),
      on(2, { ...r('PUBLISH', 'n\u0000\u00ff ch', '\u0000\u0001'), also: [{ c: 0, frames: 1 }] }),
    ],
  },
  {
    name: 'glob patterns',
    conns: 2,
    steps: [
      ev('PSUBSCRIBE', 'h?llo', 'j[ae]llo', 'k[^e]y', 'm\\*', 'a[b-d]', 'x[z-a]'),
      on(1, { ...r('PUBLISH', 'hello', '1'), also: [{ c: 0, frames: 1 }] }),
      on(1, { ...r('PUBLISH', 'jallo', '2'), also: [{ c: 0, frames: 1 }] }),
      on(1, r('PUBLISH', 'jillo', '3')),
      on(1, { ...r('PUBLISH', 'kay', '4'), also: [{ c: 0, frames: 1 }] }),
      on(1, r('PUBLISH', 'key', '5')),
      on(1, { ...r('PUBLISH', 'm*', '6'), also: [{ c: 0, frames: 1 }] }),
      on(1, r('PUBLISH', 'mx', '7')),
      on(1, { ...r('PUBLISH', 'ac', '8'), also: [{ c: 0, frames: 1 }] }),
      on(1, { ...r('PUBLISH', 'xm', '9'), also: [{ c: 0, frames: 1 }] }),
    ],
  },
  {
    name: 'inline requests and pipelining',
    steps: [
      raw('PING\r\n', 1),
      raw('PING\n', 1),
      raw('\r\n\r\nECHO  "a\\x41\\n\\t" \r\n', 1),
      raw("ECHO 'it\\'s'\r\n", 1),
      raw('ECHO a"b c"\r\n', 1),
      raw('ECHO a"b c" d\r\n', 1),
      raw('*0\r\n*-1\r\nPING\r\n', 1),
      raw('*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\nPING\r\n', 3),
      raw('*2\r\n$4\r\nECHO\r\n$3\r\na', 0),
      raw('bc\r\n', 1),
      raw('nosuch cmd\r\n', 1),
      raw('*1\r\n$4\r\nPINGxx', 1),
    ],
  },
  { name: 'protocol error: expected $', steps: [raw('PING\r\n*1\r\n+PING\r\nPING\r\n', 2, true)] },
  { name: 'protocol error: invalid multibulk length', steps: [raw('*abc\r\n', 1, true)] },
  { name: 'protocol error: multibulk length too large', steps: [raw('*3000000000\r\n', 1, true)] },
  { name: 'protocol error: leading zero count', steps: [raw('*01\r\n', 1, true)] },
  { name: 'protocol error: invalid bulk length', steps: [raw('*1\r\n$-5\r\n', 1, true)] },
  { name: 'protocol error: bulk too large', steps: [raw('*1\r\n$600000000\r\n', 1, true)] },
  { name: 'protocol error: unbalanced quotes', steps: [raw('ECHO "abc\r\n', 1, true)] },
  { name: 'protocol error: closing quote followed by a letter', steps: [raw('ECHO "a"b\r\n', 1, true)] },
  { name: 'protocol error: too big inline', steps: [raw('A'.repeat(70 * 1024), 1, true)] },
  { name: 'protocol error: too big count line', steps: [raw('*' + '1'.repeat(70 * 1024), 1, true)] },
  { name: 'QUIT', steps: [{ ...r('QUIT'), closes: true }] },
  {
    name: 'sharded Pub/Sub: own namespace, counts, subscribed context',
    conns: 3,
    steps: [
      ev('SSUBSCRIBE', 'a', 'b', 'a'),
      r('PING'),
      r('ECHO', 'x'),
      ev('SUBSCRIBE', 'c'),
      ev('SUNSUBSCRIBE', 'zz'),
      on(1, ev('SSUBSCRIBE', 'a')),
      on(1, ev('SUBSCRIBE', 'a')),
      on(2, {
        ...r('SPUBLISH', 'a', 'hi'),
        also: [
          { c: 0, frames: 1 },
          { c: 1, frames: 1 },
        ],
      }),
      on(2, { ...r('PUBLISH', 'a', 'plain'), also: [{ c: 1, frames: 1 }] }),
      on(2, r('SPUBLISH', 'c', 'x')),
      on(2, r('SPUBLISH', 'nobody', 'x')),
      // A bare SHARDCHANNELS lists in Redis's dict order: only single-match patterns here.
      on(2, r('PUBSUB', 'SHARDCHANNELS', 'a*')),
      on(2, r('PUBSUB', 'SHARDCHANNELS', 'b*')),
      on(2, r('PUBSUB', 'SHARDCHANNELS', 'a', 'b')),
      on(2, r('PUBSUB', 'SHARDNUMSUB', 'a', 'b', 'c')),
      on(2, r('PUBSUB', 'SHARDNUMSUB')),
      on(2, r('PUBSUB', 'CHANNELS', 'c')),
      on(2, r('SPUBLISH', 'a')),
      on(2, r('SSUBSCRIBE')),
      ev('SUNSUBSCRIBE', 'a'),
      ev('SUNSUBSCRIBE'),
      ev('SUNSUBSCRIBE'),
      r('PING'),
      ev('UNSUBSCRIBE'),
      r('PING'),
      on(1, ev('UNSUBSCRIBE')),
      on(1, r('PING')),
      on(1, r('RESET')),
      on(2, r('PUBSUB', 'SHARDNUMSUB', 'a')),
    ],
  },
  {
    name: 'MULTI/EXEC: queueing, nesting, runtime errors',
    steps: [
      r('EXEC'),
      r('DISCARD'),
      r('MULTI'),
      r('MULTI'),
      r('WATCH', 'x'),
      r('PING'),
      r('PING', 'a', 'b'),
      r('SELECT', '99'),
      r('ECHO', 'e'),
      r('UNWATCH'),
      r('EXEC'),
      r('EXEC'),
    ],
  },
  {
    name: 'MULTI/EXEC: queue-time errors abort (EXECABORT), DISCARD',
    steps: [
      r('MULTI'),
      r('FOO', 'a'),
      r('PING'),
      r('EXEC'),
      r('MULTI'),
      r('ECHO'),
      r('EXEC'),
      r('MULTI'),
      r('PUBSUB', 'NOPE'),
      r('DISCARD'),
      r('EXEC'),
      r('MULTI'),
      r('SELECT', '3'),
      r('DISCARD'),
      r('MULTI'),
      r('WATCH'),
      r('EXEC'),
    ],
  },
  {
    name: 'MULTI/EXEC: WATCH, FLUSHALL of a missing key, RESET and QUIT inside MULTI',
    steps: [
      r('WATCH', 'k', 'j'),
      r('FLUSHALL'),
      r('MULTI'),
      r('DBSIZE'),
      r('EXEC'),
      r('MULTI'),
      r('RESET'),
      r('EXEC'),
      r('MULTI'),
      { ...r('QUIT'), closes: true },
    ],
  },
  {
    name: 'MULTI/EXEC: SUBSCRIBE inside a transaction (RESP2 context then applies)',
    only: 2,
    steps: [r('MULTI'), r('SUBSCRIBE', 'c'), r('PING'), r('EXEC'), r('MULTI')],
  },
  ...STREAM_SCRIPTS,
];

/** Polls INFO clients on a connection of its own until `blocked_clients` is `n` (bounded). */
async function untilBlocked(port: number, n: number): Promise<void> {
  const probe = await RawResp.connect(port);
  try {
    for (let i = 0; i < 500; i++) {
      probe.send(cmd('INFO', 'clients'));
      const m = /blocked_clients:(\d+)/.exec((await probe.read(1)).toString('latin1'));
      if (m !== null && Number(m[1]) === n) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`the server never counted ${n} blocked clients`);
  } finally {
    probe.close();
  }
}

describe('Redis differential: herald vs redis-server, byte for byte', () => {
  const servers = withBothServers();

  /** Runs `s` against the server on `port`; returns every sender's and receiver's bytes per step. */
  async function run(port: number, s: Script, proto: 2 | 3): Promise<{ out: string[]; closed: boolean[] }> {
    const conns = await Promise.all(Array.from({ length: s.conns ?? 1 }, () => RawResp.connect(port)));
    const out: string[] = [];
    const closed: boolean[] = [];
    try {
      for (const c of conns) {
        c.send(cmd('FLUSHALL'));
        await c.read(1);
        if (proto === 3) {
          c.send(cmd('HELLO', '3'));
          await c.read(1);
        }
      }
      for (const [i, st] of s.steps.entries()) {
        const c = conns[st.c ?? 0];
        c.send(st.send);
        if (st.blocked !== undefined) await untilBlocked(port, st.blocked);
        let got = st.frames > 0 ? (await c.read(st.frames)).toString('latin1') : '';
        for (const a of st.also ?? []) got += ` | c${a.c}: ` + (await conns[a.c].read(a.frames)).toString('latin1');
        if (st.closes) {
          await c.untilClosed();
          closed.push(true);
        } else closed.push(false);
        out.push(`step ${i}: ${got}`);
      }
    } finally {
      for (const c of conns) c.close();
    }
    return { out, closed };
  }

  for (const s of SCRIPTS) {
    for (const proto of [2, 3] as const) {
      if (s.only !== undefined && s.only !== proto) continue;
      test(`RESP${proto}: ${s.name}`, async () => {
        const want = await run(servers.redis().port, s, proto);
        const got = await run(servers.herald().redis!.port, s, proto);
        for (let i = 0; i < want.out.length; i++)
          assert.equal(JSON.stringify(got.out[i]), JSON.stringify(want.out[i]), `step ${i} differs`);
        assert.deepEqual(got.closed, want.closed);
      });
    }
  }
});
