/**
 * Redis Streams with real clients: the product's seed code for ioredis (XADD, XGROUP CREATE
 * MKSTREAM with BUSYGROUP caught, an XREADGROUP BLOCK 5000 worker loop with XACK, XPENDING,
 * XAUTOCLAIM, XTRIM MAXLEN ~) and node-redis xAdd/xReadGroup, unchanged, against herald.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { Server } from '../../src/index.js';
import { startHerald } from './helpers.js';

let herald: Server;
before(async () => {
  herald = await startHerald();
});
after(async () => {
  await herald?.close();
});

test('ioredis: the seed worker loop with XREADGROUP BLOCK, XACK, XPENDING, XAUTOCLAIM, XTRIM', async () => {
  const port = herald.redis!.port;
  const producer = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  const worker = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    for (let i = 0; i < 2; i++) {
      try {
        await worker.xgroup('CREATE', 'orders', 'workers', '$', 'MKSTREAM');
      } catch (err) {
        if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
      }
    }
    const seen: string[] = [];
    const loop = (async () => {
      while (seen.length < 5) {
        const res = (await worker.xreadgroup('GROUP', 'workers', 'w1', 'COUNT', 10, 'BLOCK', 5000, 'STREAMS', 'orders', '>')) as
          [string, [string, string[]][]][] | null;
        assert.ok(res !== null, 'XREADGROUP BLOCK 5000 timed out: the XADDs never woke the worker');
        for (const [, entries] of res) {
          for (const [id, fields] of entries) {
            seen.push(fields[1]);
            await worker.xack('orders', 'workers', id);
          }
        }
      }
    })();
    for (let i = 0; i < 5; i++) await producer.xadd('orders', '*', 'n', String(i));
    await loop;
    assert.deepEqual(seen, ['0', '1', '2', '3', '4']);
    const pending = (await producer.xpending('orders', 'workers')) as unknown[];
    assert.equal(pending[0], 0);
    await producer.xadd('orders', '*', 'n', '5');
    await producer.xreadgroup('GROUP', 'workers', 'w2', 'STREAMS', 'orders', '>');
    const claimed = (await producer.call('XAUTOCLAIM', 'orders', 'workers', 'w3', 60000, '0-0', 'COUNT', 10)) as unknown[];
    assert.equal(claimed.length, 3);
    assert.equal(claimed[0], '0-0');
    const trimmed = await producer.xtrim('orders', 'MAXLEN', '~', 10000);
    assert.equal(trimmed, 0);
    assert.equal(await producer.xlen('orders'), 6);
  } finally {
    producer.disconnect();
    worker.disconnect();
  }
});

test('node-redis: xAdd and xReadGroup (RESP2 and RESP3)', async () => {
  for (const RESP of [2, 3] as const) {
    const client = createClient({ url: `redis://127.0.0.1:${herald.redis!.port}`, RESP });
    await client.connect();
    try {
      await client.del('jobs');
      await client.xGroupCreate('jobs', 'g', '0', { MKSTREAM: true });
      const id = await client.xAdd('jobs', '*', { task: 'a' });
      const res = await client.xReadGroup('g', 'c', { key: 'jobs', id: '>' }, { COUNT: 10 });
      const text = JSON.stringify(res);
      assert.ok(text.includes(id) && text.includes('task'), `RESP${RESP}: xReadGroup returned ${text}`);
      assert.equal(await client.xAck('jobs', 'g', id), 1);
    } finally {
      await client.quit();
    }
  }
});
