/**
 * Durable Redis Streams through ioredis (docs/redis.md "Durability"): a restart keeps streams,
 * entries with their ids, consumer groups, PELs (owner, delivery count), last-delivered ids and
 * entries-read; INFO persistence and CONFIG appendonly say so; budgets refuse writes with Redis's
 * OOM text while reads and XACK go on; an embedded server without `redisStore: 'file'` keeps
 * nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Server, silentLogger } from '../../src/index.js';

function start(dataDir: string, extra: Parameters<typeof Server.start>[0] = {}): Promise<Server> {
  return Server.start({ port: 0, redisPort: 0, jetstream: false, dataDir, redisStore: 'file', logger: silentLogger(), ...extra });
}

function client(s: Server): Redis {
  return new Redis({ port: s.redis!.port, host: '127.0.0.1', maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Everything a restart must keep, as a client sees it. */
async function observe(r: Redis): Promise<unknown> {
  return {
    full: await r.call('XINFO', 'STREAM', 'orders', 'FULL'),
    groups: await r.call('XINFO', 'GROUPS', 'orders'),
    // [id, owner, idle ms, deliveries]: idle grows with the clock, the rest must not change.
    pending: ((await r.call('XPENDING', 'orders', 'workers', '-', '+', '100')) as unknown[][]).map((e) => [e[0], e[1], e[3]]),
    other: await r.call('XRANGE', 'jobs', '-', '+'),
    db5: await r.pipeline().select(5).call('XRANGE', 'k5', '-', '+').select(0).exec(),
  };
}

test('a restart keeps streams, groups, PELs and last-delivered ids', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-rdur-'));
  try {
    let s = await start(dir);
    let r = client(s);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await r.xadd('orders', '*', 'n', String(i), 'blob', 'x'.repeat(i))) as string);
    await r.xadd('jobs', '5-1', 'a', '1');
    await r.xgroup('CREATE', 'orders', 'workers', '0');
    const got = (await r.xreadgroup('GROUP', 'workers', 'alice', 'COUNT', '8', 'STREAMS', 'orders', '>')) as [string, [string, string[]][]][];
    assert.equal(got[0][1].length, 8);
    await r.xack('orders', 'workers', ids[0], ids[1], ids[2]);
    await r.xreadgroup('GROUP', 'workers', 'bob', 'COUNT', '2', 'STREAMS', 'orders', '>');
    await r.xclaim('orders', 'workers', 'bob', 0, ids[5]);
    await r.xtrim('orders', 'MAXLEN', 18);
    await r.xdel('orders', ids[10]);
    await r.pipeline().select(5).xadd('k5', '*', 'f', 'v').select(0).exec();
    const info = await r.info('persistence');
    assert.match(info, /aof_enabled:1/);
    assert.match(info, /aof_last_write_status:ok/);
    assert.equal(((await r.config('GET', 'appendonly')) as string[])[1], 'yes');
    const before = await observe(r);
    r.disconnect();
    await s.close();

    s = await start(dir);
    r = client(s);
    assert.deepEqual(await observe(r), before);
    // The group goes on from its last-delivered id: only never-delivered entries come with '>'.
    const next = (await r.xreadgroup('GROUP', 'workers', 'carol', 'STREAMS', 'orders', '>')) as [string, [string, string[]][]][];
    assert.deepEqual(
      next[0][1].map((e) => e[0]),
      ids.slice(10).filter((id) => id !== ids[10]),
    );
    // New ids stay above every id handed out before the restart.
    const after = (await r.xadd('orders', '*', 'n', 'after')) as string;
    assert.ok(BigInt(after.split('-')[0]) >= BigInt(ids[19].split('-')[0]));
    assert.notEqual(after, ids[19]);
    r.disconnect();
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pipelined replies keep their order while writes wait for the group commit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-rdur-'));
  try {
    const s = await start(dir);
    const r = client(s);
    const p = r.pipeline();
    for (let i = 0; i < 200; i++) {
      p.xadd('q', `${i + 1}-0`, 'i', String(i));
      p.xlen('q');
      p.ping();
    }
    const res = (await p.exec()) as [Error | null, unknown][];
    for (let i = 0; i < 200; i++) {
      assert.deepEqual(res[3 * i], [null, `${i + 1}-0`]);
      assert.deepEqual(res[3 * i + 1], [null, i + 1]);
      assert.deepEqual(res[3 * i + 2], [null, 'PONG']);
    }
    r.disconnect();
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('over maxmemory or the file budget, XADD gets OOM; reads and XACK go on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-rdur-'));
  try {
    let s = await start(dir);
    let r = client(s);
    const id = (await r.xadd('s', '*', 'a', '1')) as string;
    await r.xgroup('CREATE', 's', 'g', '0');
    await r.xreadgroup('GROUP', 'g', 'c', 'STREAMS', 's', '>');
    await r.config('SET', 'maxmemory', '1');
    await assert.rejects(r.xadd('s', '*', 'a', '2'), /^ReplyError: OOM command not allowed when used memory > 'maxmemory'\.$/);
    assert.equal(await r.xlen('s'), 1);
    assert.equal(await r.xack('s', 'g', id), 1);
    await assert.rejects(r.config('SET', 'maxmemory-policy', 'allkeys-lru'), /noeviction/);
    await r.config('SET', 'maxmemory', '0');
    await r.xadd('s', '*', 'a', '3');
    r.disconnect();
    await s.close();
    // max_file_store smaller than the log: writes refused, the log's content still served.
    s = await start(dir, { maxFileStore: 64 });
    r = client(s);
    await assert.rejects(r.xadd('s', '*', 'a', '4'), /^ReplyError: OOM /);
    assert.equal(await r.xlen('s'), 2);
    r.disconnect();
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an embedded server keeps its Redis keyspace in memory unless redisStore is file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-rdur-'));
  try {
    const opts = { port: 0, redisPort: 0, jetstream: false, dataDir: dir, logger: silentLogger() };
    let s = await Server.start(opts);
    let r = client(s);
    await r.xadd('m', '*', 'a', '1');
    assert.match(await r.info('persistence'), /aof_enabled:0/);
    r.disconnect();
    await s.close();
    assert.equal(existsSync(join(dir, 'redis')), false, 'a memory keyspace wrote files');
    s = await Server.start(opts);
    r = client(s);
    assert.equal(await r.exists('m'), 0);
    r.disconnect();
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bit flip in the middle of the log loses one change; the rest replays and the server takes writes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-rdur-'));
  try {
    let s = await start(dir);
    let r = client(s);
    await r.xgroup('CREATE', 'flip', 'g', '$', 'MKSTREAM');
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await r.xadd('flip', '*', 'i', String(i), 'pad', 'z'.repeat(200))) as string);
    await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', '50', 'STREAMS', 'flip', '>');
    r.disconnect();
    await s.close();
    const file = join(dir, 'redis', readdirSync(join(dir, 'redis')).find((f) => f.endsWith('.log')) as string);
    const b = readFileSync(file);
    b[Math.floor(b.length / 3)] ^= 0x20; // inside some XADD's record, a third of the way in
    writeFileSync(file, b);
    s = await start(dir);
    r = client(s);
    const left = ((await r.xrange('flip', '-', '+')) as [string, string[]][]).map((e) => e[0]);
    assert.equal(left.length, 199, `expected exactly one entry lost, ${200 - left.length} were`);
    for (const id of left) assert.ok(ids.includes(id));
    const pending = (await r.xpending('flip', 'g')) as [number, ...unknown[]];
    assert.equal(pending[0], 50, 'the deliveries after the damage were lost');
    await r.xadd('flip', '*', 'i', 'after');
    r.disconnect();
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
