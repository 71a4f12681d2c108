/**
 * The Redis door's write path over an injected file layer (as src/server.ts wires it, but with a
 * test file system under the keyspace log): a reply waits for the fdatasync of its effect, and so
 * does every later reply on that connection and any read of not-yet-durable data; a failed log
 * write turns the waiting replies into errors, rebuilds the keyspace from disk and refuses writes
 * with MISCONF; seeded power cuts (test/faults/fault-fs.ts) never lose an XADD, XACK or delivery
 * whose reply was sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fdatasync as realFdatasync } from 'node:fs';
import { Redis } from 'ioredis';
import { Router } from '../../src/core/router.js';
import { silentLogger } from '../../src/core/log.js';
import { RespDoor } from '../../src/resp/server.js';
import { RedisDurability } from '../../src/resp/durability.js';
import { nodeFiles, type FileLayer } from '../../src/store/file/fs-layer.js';
import type { SyncPolicy } from '../../src/store/store.js';
import { randInt, removeDir, rng, tempDir } from '../store/helpers.js';
import { FaultFs } from './fault-fs.js';
import { mkdirSync } from 'node:fs';

/** How long the gate test waits for a reply that must not come (a negative check, not a timing one). */
const HOLD_CHECK_MS = 300;

/** A Redis door on a random port whose keyspace log writes through `fs`. */
async function door(dir: string, fs: FileLayer, sync: SyncPolicy = { kind: 'always' }): Promise<RespDoor> {
  const d = new RespDoor(new Router(), { host: '127.0.0.1', port: 0, appendfsync: 'always', appendonly: true, serverStartedAt: new Date() }, silentLogger());
  d.durability = await RedisDurability.open({ dir, sync, logger: silentLogger(), fs, compactBytes: 16 * 1024 }, d.streams, d.keyspace);
  await d.listen();
  return d;
}

async function shut(d: RespDoor): Promise<void> {
  await d.close();
  await d.durability?.close().catch(() => undefined);
}

function client(d: RespDoor): Redis {
  return new Redis({ port: d.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
}

/** A file layer whose fdatasyncs wait until the test opens the gate. */
class GatedFs implements FileLayer {
  private waiting: (() => void)[] = [];
  open = true;
  synced = 0;
  /** Resolves when a sync is waiting at the gate. */
  private onWait: (() => void) | null = null;
  failNext: NodeJS.ErrnoException | null = null;
  writev = nodeFiles.writev;
  fsync = nodeFiles.fsync;
  rename = nodeFiles.rename;
  unlink = nodeFiles.unlink;
  fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void => {
    const go = (): void => {
      const e = this.failNext;
      if (e !== null) return process.nextTick(cb, e);
      realFdatasync(fd, (err) => {
        this.synced++;
        cb(err);
      });
    };
    if (this.open) return go();
    this.waiting.push(go);
    this.onWait?.();
  };
  /** Resolves once some fdatasync waits at the closed gate (bounded). */
  blocked(): Promise<void> {
    if (this.waiting.length > 0) return Promise.resolve();
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('no fdatasync reached the gate within 5 s')), 5000);
      this.onWait = () => {
        clearTimeout(t);
        this.onWait = null;
        res();
      };
    });
  }
  release(): void {
    this.open = true;
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }
}

test('a write reply, and every reply after it, waits for the fdatasync; so does a read of undurable data', async () => {
  const dir = tempDir('rdoor-gate');
  const fs = new GatedFs();
  const d = await door(dir, fs);
  const a = client(d);
  const b = client(d);
  try {
    await a.xadd('s', '1-0', 'f', 'v'); // durable before the gate closes
    fs.open = false;
    const order: string[] = [];
    const w = a.xadd('s', '2-0', 'f', 'v').then(() => order.push('xadd'));
    const p = a.ping().then(() => order.push('ping-after'));
    await fs.blocked();
    // Another client reading the entry that is not yet durable waits too.
    const r = b.xlen('s').then((n) => order.push(`xlen ${n}`));
    // Nothing may arrive while the sync waits; give a wrong server ample time to show it.
    await new Promise((res) => setTimeout(res, HOLD_CHECK_MS));
    assert.equal(order.length, 0, `replies left before their effect was fdatasynced: ${order}`);
    fs.release();
    await Promise.all([w, p, r]);
    assert.deepEqual(order.slice(0, 2), ['xadd', 'ping-after']);
    assert.ok(order.includes('xlen 2'));
    // With nothing undurable, a read goes out at once (the gate stays closed, no sync is asked).
    fs.open = false;
    assert.equal(await b.xlen('s'), 2);
    fs.release();
  } finally {
    a.disconnect();
    b.disconnect();
    await shut(d);
    removeDir(dir);
  }
});

test('a failed log write: the waiting reply is an error, the keyspace is what is on disk, writes get MISCONF', async () => {
  const dir = tempDir('rdoor-fail');
  const fs = new GatedFs();
  const d = await door(dir, fs);
  const a = client(d);
  try {
    await a.xadd('s', '1-0', 'f', 'v');
    const eio = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    fs.failNext = eio;
    await assert.rejects(a.xadd('s', '2-0', 'f', 'v'), /ERR herald could not write this command to the keyspace log \(EIO\)/);
    // The model was rebuilt from the file: 2-0 never became durable, 1-0 did. (The bytes of 2-0
    // were written before the failed sync, so a restart could find it; the reload reads the file
    // as a restart would, so it is either there in both or in neither.)
    const ids = ((await a.xrange('s', '-', '+')) as [string, string[]][]).map((e) => e[0]);
    assert.ok(ids[0] === '1-0' && ids.length <= 2, `unexpected ids ${ids}`);
    await assert.rejects(a.xadd('s', '3-0', 'f', 'v'), /^ReplyError: MISCONF Errors writing to the AOF file: EIO$/);
    assert.match(await a.info('persistence'), /aof_last_write_status:err/);
    // A write queued in MULTI is refused with MISCONF at queue time, so EXEC aborts (Redis processCommand).
    const tx = await a.multi().xadd('s', '4-0', 'f', 'v').exec().catch((e: Error) => e);
    assert.match(String(tx), /EXECABORT Transaction discarded because of previous errors/);
    assert.deepEqual(((await a.xrange('s', '-', '+')) as [string, string[]][]).map((e) => e[0]), ids);
  } finally {
    a.disconnect();
    await shut(d);
    removeDir(dir);
  }
});

// ---- power cuts under ioredis load ----

const CHURN_PAD = 'p'.repeat(400);

interface Promised {
  /** id → field value of every XADD whose reply was received. */
  added: Map<string, string>;
  /** ids whose XACK reply was received (count 1). */
  acked: Set<string>;
  /** ids delivered to a consumer by a received XREADGROUP reply, not acked. */
  delivered: Set<string>;
}

async function powerRound(dir: string, seed: number, k: number, p: Promised, policy: SyncPolicy): Promise<number> {
  const r = rng(seed * 100 + k);
  const fault = new FaultFs(dir);
  fault.cutAtOp = 20 + randInt(r, 300);
  fault.cutOptions = { tear: r() < 0.5, rand: r };
  const d = await door(dir, fault, policy);
  if (k === 0) {
    const c = client(d);
    await c.xgroup('CREATE', 'orders', 'g', '$', 'MKSTREAM');
    c.disconnect();
  }
  const writer = client(d);
  const reader = client(d);
  let stop = false;
  const adds = (async () => {
    for (let i = 0; !stop; i++) {
      const v = `${seed}.${k}.${i}`;
      try {
        const [id] = await Promise.all([
          writer.xadd('orders', '*', 'v', v) as Promise<string>,
          // A trimmed key whose history compaction can drop: generation switches happen under the cuts.
          writer.xadd('churn', 'MAXLEN', '10', '*', 'pad', CHURN_PAD),
        ]);
        p.added.set(id, v);
      } catch {
        return; // the cut: an error reply or a closed connection, never a success
      }
    }
  })();
  const reads = (async () => {
    while (!stop) {
      try {
        const got = (await reader.xreadgroup('GROUP', 'g', 'c1', 'COUNT', '5', 'STREAMS', 'orders', '>')) as [string, [string, string[]][]][] | null;
        const ids = got?.[0]?.[1].map((e) => e[0]) ?? [];
        for (const id of ids) p.delivered.add(id);
        if (ids.length === 0) {
          await new Promise((res) => setImmediate(res));
          continue;
        }
        const half = ids.filter((_, i) => i % 2 === 0);
        const n = await reader.xack('orders', 'g', ...half);
        if (n === half.length) for (const id of half) {
          p.acked.add(id);
          p.delivered.delete(id);
        }
      } catch {
        return;
      }
    }
  })();
  const deadline = Date.now() + 10_000;
  while (!fault.cut && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
  stop = true;
  const rewrites = d.durability?.log.stats().rewrites ?? 0;
  fault.powerCut();
  await Promise.all([adds, reads]);
  writer.disconnect();
  reader.disconnect();
  await shut(d);
  if (policy.kind === 'interval') {
    // Nothing is promised beyond the last interval; the always run checks the promise.
    p.added.clear();
    p.acked.clear();
    p.delivered.clear();
  }
  return rewrites;
}

async function verifyPower(dir: string, p: Promised, ctx: string): Promise<void> {
  const d = await door(dir, nodeFiles);
  const c = client(d);
  try {
    const entries = new Map(((await c.xrange('orders', '-', '+')) as [string, string[]][]).map((e) => [e[0], e[1][1]]));
    for (const [id, v] of p.added) assert.equal(entries.get(id), v, `${ctx}: acknowledged XADD ${id} lost or changed`);
    const pending = new Set(((await c.xpending('orders', 'g', '-', '+', 100_000)) as [string][]).map((e) => e[0]));
    for (const id of p.acked) assert.ok(!pending.has(id), `${ctx}: acknowledged XACK of ${id} reappeared in XPENDING`);
    for (const id of p.delivered) assert.ok(pending.has(id) || !entries.has(id), `${ctx}: acknowledged delivery of ${id} not pending`);
  } finally {
    c.disconnect();
    await shut(d);
  }
}

for (const policy of [{ kind: 'always' }, { kind: 'interval', ms: 5 }] as SyncPolicy[]) {
  const title =
    policy.kind === 'always'
      ? 'power cuts under ioredis load (sync: always): every reply sent survives'
      : // The interval bound is checked where syncs can be counted: test/faults/redis-log.test.ts.
        'power cuts under ioredis load (sync: interval): the keyspace recovers and serves';
  test(title, { timeout: 120_000 }, async (t) => {
    let promised = 0;
    let rewrites = 0;
    for (const seed of [1, 2]) {
      const dir = tempDir(`rdoor-cut-${seed}`);
      mkdirSync(dir, { recursive: true });
      const p: Promised = { added: new Map(), acked: new Set(), delivered: new Set() };
      try {
        for (let k = 0; k < 4; k++) {
          rewrites += await powerRound(dir, seed, k, p, policy);
          promised += p.added.size;
          await verifyPower(dir, p, `seed ${seed} cut ${k}`);
        }
      } finally {
        removeDir(dir);
      }
    }
    t.diagnostic(`${promised} acknowledged XADDs checked after 8 cuts; ${rewrites} log generation switches (snapshots of the model) before the cuts`);
    if (policy.kind === 'always') {
      assert.ok(promised > 0, 'no XADD was acknowledged before a cut');
      assert.ok(rewrites > 0, 'no generation switch happened under the cuts');
    }
  });
}
