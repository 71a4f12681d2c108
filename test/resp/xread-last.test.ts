/**
 * `XREAD … +` as Redis 7.4 defines it (t_stream.c 7.4.0 xreadCommand and tests/unit/type/stream.tcl
 * "XREAD last element …"): the last entry of each stream; COUNT has no effect; a missing or emptied
 * stream gives nothing; BLOCK answers at once when there is an entry and otherwise waits for one.
 * Herald-only: the redis-server 7.0.15 the differential tests run refuses `+`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Server, silentLogger } from '../../src/index.js';

const BLOCKED_WAIT_MS = 5000;

/** Until INFO clients counts `n` blocked clients, bounded. */
async function untilBlocked(r: Redis, n: number): Promise<void> {
  const until = Date.now() + BLOCKED_WAIT_MS;
  for (;;) {
    const m = /blocked_clients:(\d+)/.exec(await r.info('clients'));
    if (m !== null && Number(m[1]) >= n) return;
    if (Date.now() > until) throw new Error(`no client blocked within ${BLOCKED_WAIT_MS} ms`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

test('XREAD +: last entry, COUNT ignored, empty/missing/deleted, several streams, BLOCK, MKSTREAM 0-0, XREADGROUP unchanged', async () => {
  const server = await Server.start({ port: 0, redisPort: 0, jetstream: false, logger: silentLogger() });
  const port = server.redis!.port;
  const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  const rd = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    await r.xadd('s', '1-0', 'k1', 'v1');
    await r.xadd('s', '2-0', 'k2', 'v2');
    await r.xadd('s', '3-0', 'k3', 'v3');
    assert.deepEqual(await r.xread('STREAMS', 's', '+'), [['s', [['3-0', ['k3', 'v3']]]]]);
    assert.deepEqual(await r.xread('COUNT', 3, 'STREAMS', 's', '+'), [['s', [['3-0', ['k3', 'v3']]]]]);
    await r.xadd('s', '3-18446744073709551615', 'k5', 'v5');
    assert.deepEqual(await r.xread('STREAMS', 's', '+'), [['s', [['3-18446744073709551615', ['k5', 'v5']]]]]);
    // With BLOCK and an entry present: answered at once.
    assert.deepEqual(await r.xread('BLOCK', 1_000_000, 'STREAMS', 's', '+'), [['s', [['3-18446744073709551615', ['k5', 'v5']]]]]);
    // Several streams: only the non-empty ones answer.
    await r.xadd('t', '1-0', 'a', 'b');
    assert.deepEqual(await r.xread('STREAMS', 's', 't', 'none', '+', '+', '+'), [
      ['s', [['3-18446744073709551615', ['k5', 'v5']]]],
      ['t', [['1-0', ['a', 'b']]]],
    ]);
    // Missing, then emptied by XDEL: nil.
    assert.equal(await r.xread('STREAMS', 'none', '+'), null);
    await r.xadd('e', '1-0', 'k1', 'v1');
    await r.xdel('e', '1-0');
    assert.equal(await r.xread('STREAMS', 'e', '+'), null);
    // An XDEL'd last entry: `+` is the last generated ID, so nothing follows (7.4.0).
    await r.xdel('s', '3-18446744073709551615');
    assert.equal(await r.xread('STREAMS', 's', '+'), null);
    // Never written (MKSTREAM): last ID 0-0 is refused, as 7.4.0.
    await r.xgroup('CREATE', 'mk', 'g', '$', 'MKSTREAM');
    await assert.rejects(r.xread('STREAMS', 'mk', '+'), /^ReplyError: ERR the stream last element ID is 0-0$/);
    // XREADGROUP keeps 7.0.15's answer to `+`.
    await r.xgroup('CREATE', 't', 'g', '0');
    await assert.rejects(r.xreadgroup('GROUP', 'g', 'c', 'STREAMS', 't', '+'), /Invalid stream ID/);
    // BLOCK on a missing stream: waits, then returns the entry that arrived.
    const woken = rd.xread('BLOCK', 20_000, 'STREAMS', 'later', '+');
    await untilBlocked(r, 1);
    await r.xadd('later', '1-0', 'k1', 'v1');
    assert.deepEqual(await woken, [['later', [['1-0', ['k1', 'v1']]]]]);
  } finally {
    r.disconnect();
    rd.disconnect();
    await server.close();
  }
});
