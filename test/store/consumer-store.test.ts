/**
 * The consumer-state suite on both stores, plus what only the file store can show: the log is
 * compacted into one small file, and a message and the ack that follows it in the same turn are
 * written and fdatasynced in one group-commit batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileStore } from '../../src/store/file/file-store.js';
import { COMPACT_MIN_BYTES } from '../../src/store/file/consumer-log.js';
import { MemoryStore } from '../../src/store/memory.js';
import { consumerSuite } from './consumer-suite.js';
import { fileHarness, openFileAt } from './file-harness.js';
import { durable, removeDir, tempDir } from './helpers.js';

const openAt = openFileAt;

consumerSuite({
  name: 'memory',
  open: async () => new MemoryStore(),
  cleanup: async (s) => s.destroy(),
});

consumerSuite(fileHarness('cstore'));

const consumerLogs = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('cons-'));

test('file consumer log: compaction switches to one small file and keeps the state', async () => {
  const dir = tempDir('ccompact');
  let s = await openAt(dir);
  try {
    const c = s.consumer('window');
    // A window of 10 pending: each delivery + ack adds 76 bytes of log, the live state stays tiny.
    for (let q = 1; q <= 20_000; q++) {
      c.updateDelivered(q, q, 1, q);
      if (q > 10) assert.equal(c.updateAcks(q - 10, q - 10, q), true);
    }
    const want = c.state();
    assert.ok((s as FileStore).stats().consumerSwitches > 0, 'the log was compacted');
    await durable(s);
    await s.close();
    const logs = consumerLogs(dir);
    assert.equal(logs.length, 1, `one log file left: ${logs.join(', ')}`);
    assert.ok(statSync(join(dir, logs[0])).size < COMPACT_MIN_BYTES * 2);
    s = await openAt(dir);
    assert.deepEqual(s.consumer('window').state(), want);
  } finally {
    await s.destroy();
    removeDir(dir);
  }
});

test('file consumer log: a message and its ack in one turn share one batch and one sync per file', async () => {
  const dir = tempDir('cbatch');
  const s = await openAt(dir);
  try {
    const c = s.consumer('acker');
    await durable(s);
    const before = (s as FileStore).stats();
    const { seq } = s.append('orders.1', null, Buffer.from('hello'));
    c.updateDelivered(1, seq, 1, 1);
    assert.equal(c.updateAcks(1, seq, 2), true);
    // Either whenDurable covers both records.
    await new Promise<void>((resolve, reject) => c.whenDurable((e) => (e === null ? resolve() : reject(e))));
    const after = (s as FileStore).stats();
    assert.equal(after.batches - before.batches, 1, 'one group-commit batch');
    assert.equal(after.syncs - before.syncs, 1, 'one sync round (one fdatasync per touched file)');
    const log = consumerLogs(dir)[0];
    // Both files hold the new records on disk already (written, not just pending).
    assert.ok(statSync(join(dir, log)).size > 76);
    assert.ok(statSync(join(dir, 'seg-0000000001.log')).size > 32);
  } finally {
    await s.destroy();
    removeDir(dir);
  }
});
