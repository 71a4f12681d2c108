// Crash safety of Redis Streams (issue 10 item 7): herald runs in a child process, ioredis clients
// XADD and XREADGROUP/XACK concurrently and record every reply, the child is killed with SIGKILL
// at a random moment and restarted on the same data dir. After every round: every acknowledged
// XADD is present under the id its reply named, with its fields; no acknowledged XACK reappears in
// XPENDING; every acknowledged delivery that was not acked is still pending; each round acked
// something before its kill. Bounded; no timing assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { kill, startChild } from '../jetstream/child.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'redis-child.js');
const ROUNDS = 6;
const WRITERS = 4;
const READERS = 2;
const FIRST_ACK_TIMEOUT_MS = 10_000;

async function start(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const { child, url } = await startChild(dataDir, CHILD);
  return { child, port: Number(url) };
}

/** A connected client that never retries: a request cut by the kill fails instead of being resent. */
async function client(port: number): Promise<Redis> {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, lazyConnect: true });
  c.on('error', () => undefined); // the kill resets connections; requests report it
  await c.connect();
  return c;
}

interface Promised {
  added: Map<string, string>;
  acked: Set<string>;
  delivered: Set<string>;
  /** ids whose XACK was sent (its reply may have been cut by the kill): pending or not. */
  acking: Set<string>;
}

async function verify(port: number, p: Promised, ctx: string): Promise<void> {
  const c = await client(port);
  try {
    const entries = new Map(((await c.xrange('jobs', '-', '+')) as [string, string[]][]).map((e) => [e[0], e[1].join('=')]));
    for (const [id, v] of p.added) assert.equal(entries.get(id), v, `${ctx}: acknowledged XADD ${id} lost or changed`);
    const pending = new Set(((await c.xpending('jobs', 'workers', '-', '+', 1_000_000)) as [string][]).map((e) => e[0]));
    for (const id of p.acked) assert.ok(!pending.has(id), `${ctx}: acknowledged XACK of ${id} reappeared in XPENDING`);
 for (const id of p.delivered) if (!p.acking.has(id)) assert.ok(pending.has(id), `${ctx}: acknowledged delivery of ${id} is no longer pending`);
  } finally {
    c.disconnect();
  }
}

test('every acknowledged XADD, XACK and delivery survives SIGKILL at random moments', { timeout: 180_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-rcrash-'));
  const p: Promised = { added: new Map(), acked: new Set(), delivered: new Set(), acking: new Set() };
  let live: ChildProcess | null = null;
  let attempts = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const { child, port } = await start(dataDir);
      live = child;
      if (round === 0) {
        const c = await client(port);
        await c.xgroup('CREATE', 'jobs', 'workers', '$', 'MKSTREAM');
        c.disconnect();
      } else await verify(port, p, `after kill ${round}`);
      let stop = false;
      let roundAcks = 0;
      let firstAck: () => void = () => undefined;
      const gotFirst = new Promise<void>((res) => (firstAck = res));
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        const c = await client(port);
        try {
          for (let i = 0; !stop; i++) {
            const v = `${round}-${w}-${i}`;
            attempts++;
            // Pipelined pairs: two XADDs in flight per writer.
            const [a, b] = await Promise.all([c.xadd('jobs', '*', 'v', v), c.xadd('jobs', '*', 'v', `${v}b`)]);
            p.added.set(a as string, `v=${v}`);
            p.added.set(b as string, `v=${v}b`);
          }
        } catch {
          // the kill: a request without a reply was never acknowledged
        } finally {
          c.disconnect();
        }
      });
      const readers = Array.from({ length: READERS }, async (_, rd) => {
        const c = await client(port);
        try {
          while (!stop) {
            const got = (await c.xreadgroup('GROUP', 'workers', `c${rd}`, 'COUNT', '10', 'BLOCK', '100', 'STREAMS', 'jobs', '>')) as
              | [string, [string, string[]][]][]
              | null;
            const ids = got?.[0]?.[1].map((e) => e[0]) ?? [];
            for (const id of ids) p.delivered.add(id);
            const ack = ids.filter((_, i) => i % 3 !== 0); // a third stays pending
            if (ack.length === 0) continue;
            for (const id of ack) p.acking.add(id);
            const n = await c.xack('jobs', 'workers', ...ack);
            assert.equal(n, ack.length, 'an XACK of delivered entries acked fewer than asked');
            for (const id of ack) {
              p.acked.add(id);
              p.delivered.delete(id);
            }
            roundAcks++;
            firstAck();
          }
        } catch (e) {
          if (e instanceof assert.AssertionError) throw e;
        } finally {
          c.disconnect();
        }
      });
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          gotFirst,
          new Promise<void>((_, rej) => {
            timer = setTimeout(() => rej(new Error(`round ${round}: nothing acked within ${FIRST_ACK_TIMEOUT_MS} ms`)), FIRST_ACK_TIMEOUT_MS);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
      await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 300)));
      await kill(child);
      stop = true;
      const results = await Promise.allSettled([...writers, ...readers]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
      assert.ok(roundAcks > 0, `round ${round} acked nothing before the kill`);
    }
    const { child, port } = await start(dataDir);
    live = child;
    await verify(port, p, 'after the last kill');
    const c = await client(port);
    const after = (await c.xadd('jobs', '*', 'v', 'after')) as string;
    assert.ok(!p.added.has(after), `XADD after recovery reused id ${after}`);
    c.disconnect();
    t.diagnostic(`${p.added.size} XADDs (of ${attempts * 2} sent), ${p.acked.size} XACKs, ${p.delivered.size} pending deliveries verified after each of ${ROUNDS} kills`);
  } finally {
    if (live !== null) await kill(live);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
