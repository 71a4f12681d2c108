/**
 * Redis Streams replies that carry times (XINFO STREAM FULL seen-time and delivery times, XINFO
 * CONSUMERS idle, XPENDING extended idle), compared with redis-server 7.0.15 byte for byte after
 * masking those numbers, in RESP2 and RESP3; and blocked-client bookkeeping (INFO blocked_clients
 * and total_blocking_keys, a client that disconnects while blocked, a pipelined command held behind
 * a blocked read). Times themselves are never asserted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from '../../src/index.js';
import { RawResp, cmd, startHerald, withBothServers, within } from './helpers.js';

/** Epoch-millisecond integers (13 digits) and the small integer after an idle field become `T`. */
function mask(s: string): string {
  return s
    .replace(/:\d{13}\r\n/g, ':T\r\n')
    .replace(/(\$4\r\nidle\r\n):\d+\r\n/g, '$1:T\r\n')
    .replace(/(\$\d+\r\n[^\r]*\r\n\$\d+\r\n[^\r]*\r\n):\d+(\r\n:\d+\r\n)/g, '$1:T$2');
}

const SCRIPT: string[][] = [
  ['XADD', 's', '1-0', 'a', '1'],
  ['XADD', 's', '2-0', 'b', '2'],
  ['XADD', 's', '3-0', 'c', '3'],
  ['XGROUP', 'CREATE', 's', 'g', '0'],
  ['XGROUP', 'CREATE', 's', 'h', '$'],
  ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 's', '>'],
  ['XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', 's', '>'],
  ['XINFO', 'STREAM', 's', 'FULL'],
  ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', '1'],
  ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', '0'],
  ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', 'x'],
  ['XINFO', 'STREAM', 's', 'FULL', 'FOO', '1'],
  ['XINFO', 'CONSUMERS', 's', 'g'],
  ['XPENDING', 's', 'g', '-', '+', '10'],
  ['XPENDING', 's', 'g', '-', '+', '10', 'alice'],
  ['XPENDING', 's', 'g', 'IDLE', '0', '-', '+', '10'],
];

describe('Redis Streams replies with times, masked, vs redis-server', () => {
  const servers = withBothServers();

  async function run(port: number, proto: 2 | 3): Promise<string[]> {
    const c = await RawResp.connect(port);
    try {
      c.send(cmd('FLUSHALL'));
      await c.read(1);
      if (proto === 3) {
        c.send(cmd('HELLO', '3'));
        await c.read(1);
      }
      const out: string[] = [];
      for (const step of SCRIPT) {
        c.send(cmd(...step));
        out.push(mask((await c.read(1)).toString('latin1')));
      }
      return out;
    } finally {
      c.close();
    }
  }

  for (const proto of [2, 3] as const) {
    test(`RESP${proto}: XINFO FULL, XINFO CONSUMERS, XPENDING extended`, async () => {
      const want = await run(servers.redis().port, proto);
      const got = await run(servers.herald().redis!.port, proto);
      for (let i = 0; i < want.length; i++)
        assert.equal(JSON.stringify(got[i]), JSON.stringify(want[i]), `step ${i} (${SCRIPT[i].join(' ')})`);
    });
  }
});

describe('blocked clients', () => {
  let herald: Server;
  before(async () => {
    herald = await startHerald();
  });
  after(async () => {
    await herald?.close();
  });

  async function info(c: RawResp): Promise<{ blocked: number; keys: number }> {
    c.send(cmd('INFO', 'clients'));
    const s = (await c.read(1)).toString('latin1');
    const num = (f: string): number => Number(new RegExp(`${f}:(\\d+)`).exec(s)?.[1]);
    return { blocked: num('blocked_clients'), keys: num('total_blocking_keys') };
  }

  /** Polls INFO until blocked_clients is `n` (bounded by the helper's wait). */
  async function untilBlocked(c: RawResp, n: number): Promise<void> {
    await within(`blocked_clients to become ${n}`, (done) => {
      const poll = async (): Promise<void> => {
        if ((await info(c)).blocked === n) done(undefined);
        else setTimeout(() => void poll(), 10);
      };
      void poll();
    });
  }

  test('INFO counts blocked clients and keys; a disconnect unblocks; held commands run after the answer', async () => {
    const port = herald.redis!.port;
    const ctl = await RawResp.connect(port);
    const r1 = await RawResp.connect(port);
    const r2 = await RawResp.connect(port);
    try {
      r1.send(Buffer.concat([cmd('XREAD', 'BLOCK', '0', 'STREAMS', 'a', 'b', '$', '$'), cmd('PING')]));
      r2.send(cmd('XREAD', 'BLOCK', '0', 'STREAMS', 'b', '$'));
      await untilBlocked(ctl, 2);
      assert.deepEqual(await info(ctl), { blocked: 2, keys: 2 });
      r2.close();
      await untilBlocked(ctl, 1);
      ctl.send(cmd('XADD', 'b', '5-0', 'f', 'v'));
      assert.equal((await ctl.read(1)).toString('latin1'), '$3\r\n5-0\r\n');
      // The XREAD answer (only key b, as Redis 7.0), then the PING that waited behind it.
      assert.equal(
        (await r1.read(2)).toString('latin1'),
        '*1\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n+PONG\r\n',
      );
      assert.deepEqual(await info(ctl), { blocked: 0, keys: 0 });
    } finally {
      for (const c of [ctl, r1, r2]) c.close();
    }
  });
});
