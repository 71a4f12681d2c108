/**
 * The file store's read-ahead window (segment.ts `read`): a forward walk reads many records per
 * `pread`; every record is still CRC-checked, so a damaged record inside a window is reported and
 * not served, and an erase drops the window so its old bytes are neither served nor kept.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { openFileStore } from '../../src/store/file/index.js';
import type { MessageStore } from '../../src/store/store.js';
import { CaptureLogger, durable, removeDir, segmentFiles, tempDir } from './helpers.js';

const N = 500;
/** Large enough that a forward walk reads many records per window. */
const SEG = 1024 * 1024;

function payloadOf(i: number): Buffer {
  const tag = `msg-${String(i).padStart(6, '0')}-`;
  return Buffer.from(tag.repeat(Math.ceil(1000 / tag.length)).slice(0, 1000));
}

async function fill(dir: string): Promise<void> {
  const { store } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG });
  for (let i = 1; i <= N; i++) store.append(`t.${i % 7}`, null, payloadOf(i));
  await durable(store);
  await store.close();
}

/** Walks the store forward as a consumer does; returns the seqs served, checking each payload. */
function walk(s: MessageStore): number[] {
  const seen: number[] = [];
  for (let m = s.nextMatching(1, '>'); m !== null; m = s.nextMatching(m.seq + 1, '>')) {
    assert.deepEqual(m.payload, payloadOf(m.seq), `payload of seq ${m.seq}`);
    assert.equal(m.subject, `t.${m.seq % 7}`);
    seen.push(m.seq);
  }
  return seen;
}

describe('file store read-ahead', () => {
  test('a damaged record in the middle of a read-ahead window is reported and skipped, the rest served', async () => {
    const dir = tempDir('readahead-corrupt');
    try {
      await fill(dir);
      const victim = 250;
      const file = segmentFiles(dir)[0];
      const b = readFileSync(file);
      const at = b.indexOf(payloadOf(victim));
      assert.ok(at > 0, 'victim payload found on disk');
      b[at + 500] ^= 0xff;
      writeFileSync(file, b);
      const log = new CaptureLogger();
      const { store: s } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG, logger: log });
      const seen = walk(s);
      assert.equal(seen.length, N - 1);
      assert.ok(!seen.includes(victim), 'the damaged record was not served');
      assert.ok(log.warns.some((w) => (w.o as { seq?: number }).seq === victim), 'the damaged record was reported');
      assert.equal(s.get(victim), null);
      await s.close();
    } finally {
      removeDir(dir);
    }
  });

  test('an erase after a forward walk: the erased record is gone from reads and from the file', async () => {
    const dir = tempDir('readahead-erase');
    try {
      await fill(dir);
      const { store: s } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG });
      assert.equal(walk(s).length, N);
      const gone = [10, 11, 300];
      for (const q of gone) assert.equal(s.delete(q, true), true);
      await durable(s);
      for (const q of gone) assert.equal(s.get(q), null);
      const seen = walk(s);
      assert.deepEqual(seen, Array.from({ length: N }, (_, k) => k + 1).filter((q) => !gone.includes(q)));
      const b = readFileSync(segmentFiles(dir)[0]);
      for (const q of gone) assert.equal(b.indexOf(payloadOf(q)), -1, `seq ${q} erased on disk`);
      // Random access after the walk still reads exact records.
      for (const q of [499, 2, 250, 1]) assert.deepEqual(s.get(q)?.payload, payloadOf(q));
      await s.close();
    } finally {
      removeDir(dir);
    }
  });

  test('walkers at different positions, interleaved one read at a time, each read exact records', async () => {
    const dir = tempDir('readahead-walkers');
    try {
      await fill(dir);
      const { store: s } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG });
      // Four walkers (one more than the windows a segment keeps), 100 records apart.
      const cursors = [1, 101, 201, 301];
      for (let step = 0; step < 200; step++) {
        for (let w = 0; w < cursors.length; w++) {
          const m = s.nextMatching(cursors[w], '>');
          if (m === null) continue;
          assert.deepEqual(m.payload, payloadOf(m.seq), `walker ${w} at seq ${m.seq}`);
          cursors[w] = m.seq + 1;
        }
      }
      assert.deepEqual(cursors, [201, 301, 401, 501]);
      await s.close();
    } finally {
      removeDir(dir);
    }
  });
});
