/**
 * Deletes and lost seqs across a damaged record (docs/storage-format.md "Deletes survive one
 * damaged record", "What a skip reports"): a restating SeqMark repeats the batch's deletes,
 * compacted segments restate the tombstones they keep, segments written before restating marks
 * report loudly that a delete may be undone, and a skip names every seq it may have lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFileStore } from '../../src/store/file/index.js';
import {
  encodeKeyedMark,
  encodeMark,
  encodeMsg,
  KEYED_MARK_BYTES,
  msgRecordLen,
  RECORD_OVERHEAD,
  RecordType,
} from '../../src/store/file/record.js';
import { CaptureLogger, durable, recordOffsets, removeDir, segmentFiles, tempDir } from './helpers.js';

const MARK_WARN = 'store recovery: a damaged record may have been a delete; deleted messages may be served again';

test('a damaged last message of a batch is reported with its seq range from the closing mark; no delete warning', async () => {
  const dir = tempDir('lastmsg');
  try {
    const s = (await openFileStore(dir, { sync: { kind: 'always' } })).store;
    for (let i = 1; i <= 4; i++) s.append(`k.${i}`, null, Buffer.from(`v${i}`));
    await durable(s);
    await s.close();
    const file = segmentFiles(dir)[0];
    const b = readFileSync(file);
    b[recordOffsets(b, RecordType.Msg)[3] + RECORD_OVERHEAD] ^= 0xff; // seq 4's payload
    writeFileSync(file, b);
    const log = new CaptureLogger();
    const { store: r, report } = await openFileStore(dir, { sync: { kind: 'always' }, logger: log });
    assert.equal(report.skipped.length, 1, JSON.stringify(report));
    const sk = report.skipped[0];
    assert.deepEqual([sk.firstSeqLost, sk.lastSeqLost, sk.deleteMayBeUndone], [4, 4, false]);
    assert.equal(r.state().lastSeq, 4, 'seq 4 is not handed out again');
    assert.ok(!log.warns.some((w) => w.m === MARK_WARN), 'no delete warning for a lost message');
    await r.close();
  } finally {
    removeDir(dir);
  }
});

test('three damaged messages with valid ones between: every valid one is kept, each lost seq reported', async () => {
  const dir = tempDir('zebra');
  try {
    const s = (await openFileStore(dir, { sync: { kind: 'always' } })).store;
    for (let i = 1; i <= 7; i++) s.append(`k.${i}`, null, Buffer.from(`value ${i}`));
    await durable(s);
    await s.close();
    const file = segmentFiles(dir)[0];
    const b = readFileSync(file);
    const offs = recordOffsets(b, RecordType.Msg);
    for (const k of [1, 3, 5]) b[offs[k] + RECORD_OVERHEAD] ^= 0xff; // seqs 2, 4, 6
    writeFileSync(file, b);
    const { store: r, report } = await openFileStore(dir, { sync: { kind: 'always' } });
    const alive = [1, 2, 3, 4, 5, 6, 7].filter((q) => r.get(q) !== null);
    assert.deepEqual(alive, [1, 3, 5, 7]);
    assert.deepEqual(
      report.skipped.map((k) => [k.firstSeqLost, k.lastSeqLost]),
      [
        [2, 2],
        [4, 4],
        [6, 6],
      ],
    );
    assert.equal(report.truncated.length, 0);
    await r.close();
  } finally {
    removeDir(dir);
  }
});

test('a segment written before restating marks: a damaged tombstone is reported loudly as a delete that may be undone', async () => {
  const dir = tempDir('oldmarks');
  try {
    // Keyed head, messages 1..3 and a plain 32-byte closing mark, Tombstone(2) + mark, message 4 + mark.
    const key = 0x1234_5678;
    const parts: Buffer[] = [];
    const rec = (n: number): Buffer => {
      const x = Buffer.alloc(n);
      parts.push(x);
      return x;
    };
    for (let k = 0; k < 2; k++) encodeKeyedMark(rec(KEYED_MARK_BYTES), 0, 1, 1n, key);
    const msg = (seq: number): void => {
      const p = Buffer.from(`v${seq}`);
      const len = msgRecordLen(3, 0, p.length);
      encodeMsg(rec(len), 0, len, seq, BigInt(seq), `k.${seq}`, 3, null, p, key);
    };
    for (let i = 1; i <= 3; i++) msg(i);
    encodeMark(rec(32), 0, RecordType.SeqMark, 4, 3n, key);
    const tomb = rec(32);
    encodeMark(tomb, 0, RecordType.Tombstone, 2, 3n, key);
    encodeMark(rec(32), 0, RecordType.SeqMark, 4, 3n, key);
    msg(4);
    encodeMark(rec(32), 0, RecordType.SeqMark, 5, 4n, key);
    const file = join(dir, 'seg-0000000001.log');
    writeFileSync(file, Buffer.concat(parts));
    let { store: s, report } = await openFileStore(dir, { sync: { kind: 'always' } });
    assert.equal(report.skipped.length + report.truncated.length, 0);
    assert.equal(s.get(2), null, 'the old format still reads: seq 2 is deleted');
    await s.close();
    const b = readFileSync(file);
    const at = recordOffsets(b, RecordType.Tombstone)[0];
    b[at + RECORD_OVERHEAD - 1] ^= 1;
    writeFileSync(file, b);
    const log = new CaptureLogger();
    ({ store: s, report } = await openFileStore(dir, { sync: { kind: 'always' }, logger: log }));
    assert.equal(report.skipped.length, 1);
    const sk = report.skipped[0];
    assert.deepEqual([sk.offset, sk.deleteMayBeUndone, sk.firstSeqLost, sk.lastSeqLost], [at, true, null, null]);
    assert.ok(
      log.warns.some((w) => w.m === MARK_WARN),
      'the possible undone delete is logged',
    );
    await s.close();
  } finally {
    removeDir(dir);
  }
});

test('a tombstone kept by compaction survives its own damage: the compacted segment restates it', async () => {
  const dir = tempDir('compacted');
  try {
    const opts = { sync: { kind: 'always' as const }, segmentBytes: 4096 };
    const s = (await openFileStore(dir, opts)).store;
    const body = Buffer.alloc(100, 0x61);
    for (let i = 1; i <= 20; i++) s.append(`k.${i}`, null, body); // segment 1
    await durable(s);
    let n = 20;
    while (segmentFiles(dir).length < 2 || n < 25) {
      s.append(`k.${++n}`, null, body);
      await durable(s);
    }
    assert.ok(s.delete(5)); // its Tombstone goes to the active segment (2), about seq 5 of segment 1
    for (let i = 0; i < 60; i++) s.append(`k.${++n}`, null, body); // seal segment 2, start more
    await durable(s);
    const seg2 = segmentFiles(dir)[1];
    const before = readFileSync(seg2).length;
    const msgs2 = recordOffsets(readFileSync(seg2), RecordType.Msg).length;
    for (let q = 21; q <= n; q++) if (s.get(q) !== null && q < 21 + msgs2 + 2) s.delete(q); // empties segment 2
    await durable(s);
    await s.close(); // drains the writer: compaction of segment 2 has run
    const b = readFileSync(seg2);
    assert.ok(b.length < before / 2, `segment 2 was compacted (${before} -> ${b.length} bytes)`);
    const tombs = recordOffsets(b, RecordType.Tombstone);
    const kept = tombs.filter((o) => b.readUInt32LE(o + 12) === 5);
    assert.equal(kept.length, 1, `segment 2 was compacted and kept Tombstone(5) (tombstones ${tombs.length})`);
    b[kept[0] + RECORD_OVERHEAD - 1] ^= 1;
    writeFileSync(seg2, b);
    for (const f of readdirSync(dir)) if (f.endsWith('.idx')) unlinkSync(join(dir, f)); // scan, not the cache
    const { store: r, report } = await openFileStore(dir, opts);
    const sk = report.skipped.filter((k) => seg2.endsWith(k.segment));
    assert.equal(sk.length, 1, JSON.stringify(report.skipped));
    assert.equal(sk[0].deleteMayBeUndone, false);
    assert.equal(r.get(5), null, 'seq 5 stays deleted');
    await r.close();
  } finally {
    removeDir(dir);
  }
});
