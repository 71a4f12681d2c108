/**
 * /redisz: the Redis keyspace's streams in monitoring (herald issue 10, "Redis streams appear in
 * /jsz-style monitoring with their sizes"), read with fetch after real ioredis traffic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Server, silentLogger } from '../../src/index.js';

interface Group {
  name: string;
  consumers: number;
  pending: number;
  last_delivered_id: string;
  lag: number | null;
}
interface Row {
  db: number;
  key: string;
  length: number;
  first_id: string | null;
  last_id: string | null;
  approx_bytes: number;
  groups: Group[];
}
interface Redisz {
  total_streams: number;
  total_entries: number;
  total_pending: number;
  total_groups: number;
  total_bytes: number;
  matched: number;
  offset: number;
  limit: number;
  streams: Row[];
  keyspace: Record<string, { keys: number; streams: number }>;
  log: { enabled: boolean; generation?: number; records?: number; last_write_status?: string };
  disabled?: boolean;
}

async function redisz(server: Server, query = ''): Promise<Redisz> {
  const res = await fetch(`${server.monitorUrl}/redisz${query}`);
  assert.equal(res.status, 200, `/redisz${query} answered ${res.status}`);
  return (await res.json()) as Redisz;
}

test('/redisz lists stream keys per db with length, ids, groups, lag, bytes and totals; pages', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-redisz-'));
  const server = await Server.start({
    port: 0, httpPort: 0, redisPort: 0, jetstream: false, dataDir: dir, redisStore: 'file', logger: silentLogger(),
  });
  const r = new Redis({ port: server.redis!.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    for (let i = 1; i <= 5; i++) await r.xadd('orders', `1-${i}`, 'n', String(i));
    await r.xgroup('CREATE', 'orders', 'billing', '0');
    await r.xgroup('CREATE', 'orders', 'audit', '$');
    await r.xreadgroup('GROUP', 'billing', 'w1', 'COUNT', 2, 'STREAMS', 'orders', '>');
    await r.xadd('alpha', '*', 'k', 'v');
    await r.select(3);
    await r.xadd('jobs', '7-0', 'a', 'b');

    const all = await redisz(server);
    assert.equal(all.total_streams, 3);
    assert.equal(all.total_entries, 7);
    assert.equal(all.total_groups, 2);
    assert.equal(all.total_pending, 2);
    assert.ok(all.total_bytes > 0, 'total_bytes counts the entries');
    assert.deepEqual(all.keyspace, { db0: { keys: 2, streams: 2 }, db3: { keys: 1, streams: 1 } });
    assert.deepEqual(all.streams.map((s) => `${s.db}/${s.key}`), ['0/alpha', '0/orders', '3/jobs']);
    const orders = all.streams[1];
    assert.equal(orders.length, 5);
    assert.equal(orders.first_id, '1-1');
    assert.equal(orders.last_id, '1-5');
    assert.ok(orders.approx_bytes > 0);
    assert.deepEqual(
      orders.groups.map((g) => [g.name, g.consumers, g.pending, g.last_delivered_id, g.lag]),
      [['audit', 0, 0, '1-5', 0], ['billing', 1, 2, '1-2', 3]],
    );
    assert.equal(all.log.enabled, true);
    assert.equal(all.log.last_write_status, 'ok');
    assert.equal(typeof all.log.generation, 'number');
    assert.ok((all.log.records ?? 0) > 0, 'the log counts its records');

    const page = await redisz(server, '?offset=1&limit=1');
    assert.deepEqual([page.offset, page.limit, page.matched], [1, 1, 3]);
    assert.deepEqual(page.streams.map((s) => s.key), ['orders']);
    const db3 = await redisz(server, '?db=3');
    assert.deepEqual(db3.streams.map((s) => s.key), ['jobs']);
    assert.equal(db3.total_streams, 3, 'totals count the whole keyspace');
  } finally {
    r.disconnect();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/redisz without the Redis door says disabled; in memory the log is off', async () => {
  const off = await Server.start({ port: 0, httpPort: 0, jetstream: false, logger: silentLogger() });
  try {
    assert.equal((await redisz(off)).disabled, true);
  } finally {
    await off.close();
  }
  const mem = await Server.start({ port: 0, httpPort: 0, redisPort: 0, jetstream: false, logger: silentLogger() });
  try {
    const body = await redisz(mem);
    assert.equal(body.total_streams, 0);
    assert.deepEqual(body.streams, []);
    assert.equal(body.log.enabled, false);
  } finally {
    await mem.close();
  }
});
