/**
 * File store recovery under damage: torn tails at random offsets, flipped bytes in the last
 * segment, corruption in sealed segments (with and without index files), lost index files, erase on
 * disk, and the directory lock. Bounded loops, seeded randomness, no timing assertions.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFileStore } from '../../src/store/file/index.js';
import type { MessageStore, SyncPolicy } from '../../src/store/store.js';
import { CaptureLogger, durable, randInt, removeDir, rng, tempDir } from './helpers.js';

const SEG = 8192;
const N = 400;

function payloadOf(i: number): Buffer {
  return Buffer.alloc(20 + ((i * 37) % 180), `p${i}-`);
}
function subjectOf(i: number): string {
  return `t.${i % 5}`;
}
function headersOf(i: number): Buffer | null {
  return i % 3 === 0 ? Buffer.from(`NATS/1.0\r\nI: ${i}\r\n\r\n`) : null;
}

function logs(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
}

/** Record boundaries of a segment file, read with nothing but the documented layout. */
function records(file: string): { off: number; len: number; type: number; seq: number }[] {
  const b = readFileSync(file);
  const out: { off: number; len: number; type: number; seq: number }[] = [];
  for (let p = 0; p + 32 <= b.length;) {
    const len = b.readUInt32LE(p);
    if (len < 32 || p + len > b.length) break;
    out.push({ off: p, len, type: b[p + 4], seq: b.readUInt32LE(p + 12) + b.readUInt32LE(p + 16) * 2 ** 32 });
    p += len;
  }
  return out;
}

async function build(dir: string, sync: SyncPolicy = { kind: 'always' }): Promise<void> {
  const { store } = await openFileStore(dir, { sync, segmentBytes: SEG });
  for (let i = 1; i <= N; i++) store.append(subjectOf(i), headersOf(i), payloadOf(i));
  await durable(store);
  await store.close();
}

function assertIntact(s: MessageStore, seq: number): void {
  const m = s.get(seq);
  assert.ok(m !== null, `seq ${seq} missing`);
  assert.equal(m.subject, subjectOf(seq));
  assert.deepEqual(m.headers, headersOf(seq));
  assert.ok(m.payload.equals(payloadOf(seq)), `payload of ${seq}`);
}

/** Opens, checks every seq is either intact or absent and that what is present is 1..k. */
async function openAndCheckPrefix(dir: string, log: CaptureLogger): Promise<{ s: MessageStore; k: number; truncated: number }> {
  const { store: s, report } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG, logger: log });
  const st = s.state();
  const k = st.messages;
  assert.equal(st.firstSeq, k === 0 ? (st.lastSeq === 0 ? 0 : st.lastSeq + 1) : 1);
  for (let i = 1; i <= k; i++) assertIntact(s, i);
  for (let i = k + 1; i <= N; i++) assert.equal(s.get(i), null);
  assert.equal(log.warns.length > 0, report.truncated.length > 0);
  return { s, k, truncated: report.truncated.length };
}

describe('file store: torn tails and corruption', () => {
  test('a torn last segment is cut at the last whole record, reported, and appends continue', async () => {
    const golden = tempDir('torn-golden');
    await build(golden);
    const last = logs(golden).at(-1) as string;
    const recs = records(join(golden, last));
    const size = statSync(join(golden, last)).size;
    const r = rng(11);
    try {
      for (let trial = 0; trial < 25; trial++) {
        const dir = tempDir('torn');
        try {
          cpSync(golden, dir, { recursive: true });
          const cut = trial === 0 ? 0 : trial === 1 ? size - 1 : randInt(r, size);
          truncateSync(join(dir, last), cut);
          const log = new CaptureLogger();
          const { s, k } = await openAndCheckPrefix(dir, log);
          const whole = recs.filter((x) => x.off + x.len <= cut);
          const torn = recs.find((x) => x.off < cut && x.off + x.len > cut);
          const keptMsgs = whole.filter((x) => x.type === 1);
          const expectK = keptMsgs.length > 0 ? keptMsgs[keptMsgs.length - 1].seq : recs[0].seq - 1;
          assert.equal(k, expectK, `cut ${cut}`);
          const rep = log.warns.map((w) => w.o as { offset: number; bytes: number; firstSeqLost: number | null });
          if (torn === undefined) assert.equal(rep.length, 0, `cut ${cut} on a boundary`);
          else {
            assert.equal(rep.length, 1);
            assert.equal(rep[0].offset, torn.off);
            assert.equal(rep[0].bytes, cut - torn.off);
            if (torn.type === 1 && cut - torn.off >= 28) assert.equal(rep[0].firstSeqLost, torn.seq);
          }
          const next = s.append('after.crash', null, Buffer.from('new'));
          assert.equal(next.seq, k + 1);
          await durable(s);
          await s.close();
          const { store: s2, report } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG });
          assert.equal(report.truncated.length, 0);
          assert.equal(s2.get(k + 1)?.payload.toString(), 'new');
          if (k > 0) assertIntact(s2, k);
          await s2.close();
        } finally {
          removeDir(dir);
        }
      }
    } finally {
      removeDir(golden);
    }
  });

  test('a flipped byte in the last segment loses only the damaged record; a damaged last record is a torn tail', async () => {
    // Changed by issue 12 item 1: this used to cut everything from the damaged record on.
    const golden = tempDir('flip-golden');
    await build(golden);
    const last = logs(golden).at(-1) as string;
    const recs = records(join(golden, last));
    const r = rng(23);
    try {
      for (let trial = 0; trial < 25; trial++) {
        const dir = tempDir('flip');
        try {
          cpSync(golden, dir, { recursive: true });
          const file = join(dir, last);
          const b = readFileSync(file);
          const at = trial === 0 ? b.length - 1 : trial === 1 ? b.length - 33 : randInt(r, b.length);
          b[at] ^= 1 << randInt(r, 8);
          writeFileSync(file, b);
          const hit = recs.find((x) => x.off <= at && at < x.off + x.len) as {
            off: number;
            seq: number;
            type: number;
            len: number;
          };
          const tail = hit === recs[recs.length - 1];
          const log = new CaptureLogger();
          const { store: s, report } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG, logger: log });
          const ctx = `flip at ${at} (record at ${hit.off}, type ${hit.type})`;
          assert.equal(report.truncated.length, tail ? 1 : 0, ctx);
          assert.equal(report.skipped.length, tail ? 0 : 1, ctx);
          const rep = tail ? report.truncated[0] : report.skipped[0];
          assert.deepEqual([rep.segment, rep.offset, rep.bytes], [last, hit.off, tail ? b.length - hit.off : hit.len], ctx);
          assert.ok(log.warns.length > 0, ctx);
          const lost = hit.type === 1 ? hit.seq : 0;
          for (let i = 1; i <= N; i++) {
            if (i === lost) assert.equal(s.get(i), null, ctx);
            else assertIntact(s, i);
          }
          const st = s.state();
          assert.equal(st.messages, lost === 0 ? N : N - 1, ctx);
          // Issue 12 item 2: whatever record was hit, no acknowledged seq is handed out again.
          assert.equal(st.lastSeq, N, ctx);
          assert.deepEqual(s.deletedSeqs(), lost === 0 ? [] : [lost], ctx);
          assert.equal(s.append('x', null, Buffer.from('y')).seq, N + 1);
          await s.close();
        } finally {
          removeDir(dir);
        }
      }
    } finally {
      removeDir(golden);
    }
  });

  test('corruption inside a sealed segment with an index file is detected on read and not served', async () => {
    const dir = tempDir('sealed-corrupt');
    try {
      await build(dir);
      const first = logs(dir)[0];
      const recs = records(join(dir, first)).filter((x) => x.type === 1);
      const victim = recs[Math.floor(recs.length / 2)];
      const b = readFileSync(join(dir, first));
      b[victim.off + victim.len - 10] ^= 0xff; // inside the payload
      writeFileSync(join(dir, first), b);
      const log = new CaptureLogger();
      const { store: s, report } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG, logger: log });
      assert.equal(report.truncated.length, 0);
      assert.equal(s.get(victim.seq), null);
      assert.ok(log.warns.some((w) => (w.o as { seq?: number }).seq === victim.seq));
      for (let i = 1; i <= N; i++) if (i !== victim.seq) assertIntact(s, i);
      await s.close();
    } finally {
      removeDir(dir);
    }
  });

  test('without index files, sealed segments are rescanned; a damaged record there is skipped and reported', async () => {
    const dir = tempDir('noidx');
    try {
      await build(dir);
      const before = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG });
      const want = { ...before.store.state() };
      await before.store.close();
      for (const f of readdirSync(dir)) if (f.endsWith('.idx')) unlinkSync(join(dir, f));
      let { store: s, report } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG });
      assert.deepEqual(s.state(), want);
      assert.equal(report.truncated.length, 0);
      await s.close();
      // Index files were rewritten; now damage the second segment and drop its index.
      const second = logs(dir)[1];
      const recs = records(join(dir, second)).filter((x) => x.type === 1);
      const victim = recs[3];
      const b = readFileSync(join(dir, second));
      b[victim.off + 30] ^= 0x55;
      writeFileSync(join(dir, second), b);
      unlinkSync(join(dir, second.replace('.log', '.idx')));
      const log = new CaptureLogger();
      ({ store: s, report } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG, logger: log }));
      // Changed by issue 12 item 1: this used to cut the segment from the damaged record on.
      assert.equal(report.truncated.length, 0);
      assert.equal(report.skipped.length, 1);
      assert.deepEqual(
        [report.skipped[0].segment, report.skipped[0].offset, report.skipped[0].bytes],
        [second, victim.off, victim.len],
      );
      const lost = new Set([victim.seq]);
      for (let i = 1; i <= N; i++) {
        if (lost.has(i)) assert.equal(s.get(i), null);
        else assertIntact(s, i);
      }
      assert.equal(s.state().lastSeq, N);
      assert.equal(s.append('x', null, Buffer.from('y')).seq, N + 1);
      await s.close();
    } finally {
      removeDir(dir);
    }
  });

  test('erase overwrites the payload on disk; a plain delete survives restart too', async () => {
    const dir = tempDir('erase');
    try {
      const { store: s } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG });
      const secret = Buffer.from('top-secret-payload-0123456789');
      for (let i = 0; i < 50; i++) s.append('a', null, i === 20 ? secret : Buffer.from(`m${i}`));
      await durable(s);
      assert.equal(s.delete(21, true), true);
      assert.equal(s.delete(22), true);
      await s.close();
      for (const f of readdirSync(dir)) assert.equal(readFileSync(join(dir, f)).indexOf(secret), -1, `secret still in ${f}`);
      const { store: s2 } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG });
      assert.equal(s2.get(21), null);
      assert.equal(s2.get(22), null);
      assert.deepEqual(s2.deletedSeqs(), [21, 22]);
      await s2.close();
    } finally {
      removeDir(dir);
    }
  });

  test('sync interval and never: acknowledged appends survive close and reopen', async () => {
    for (const sync of [{ kind: 'interval', ms: 5 }, { kind: 'never' }] as SyncPolicy[]) {
      const dir = tempDir('policy');
      try {
        await build(dir, sync);
        const { store: s } = await openFileStore(dir, { sync, segmentBytes: SEG });
        assert.equal(s.state().messages, N);
        for (let i = 1; i <= N; i++) assertIntact(s, i); // every message: cheap, and a sample could miss one
        await s.close();
      } finally {
        removeDir(dir);
      }
    }
  });

  test('a directory is opened by one store at a time', async () => {
    const dir = tempDir('lock');
    try {
      const { store: s } = await openFileStore(dir, { sync: { kind: 'always' } });
      await assert.rejects(openFileStore(dir, { sync: { kind: 'always' } }), /already open/);
      await s.close();
      const again = await openFileStore(dir, { sync: { kind: 'always' } });
      await again.store.close();
    } finally {
      removeDir(dir);
    }
  });
});
