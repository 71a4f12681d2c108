/**
 * Resynchronisation after a damaged record (issue 12 item 1): it never invents a record, even when
 * payloads are made of valid records (another store's segment stored as messages), and segments
 * written before segment keys existed are still read (a damaged record there still cuts the tail,
 * since an unkeyed resync could land inside a payload).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFileStore } from '../../src/store/file/index.js';
import { encodeMark, encodeMsg, msgRecordLen, RecordType } from '../../src/store/file/record.js';
import { durable, removeDir, tempDir } from './helpers.js';

const segs = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.log') && f.startsWith('seg-'))
    .sort();

test('a damaged record whose payload holds valid records loses only itself: nothing inside it is taken for a record', async () => {
  // A donor store's segment: valid records under the donor's key.
  const donor = tempDir('donor');
  const dir = tempDir('carrier');
  try {
    const d = (await openFileStore(donor, { sync: { kind: 'always' } })).store;
    for (let i = 1; i <= 50; i++) d.append(`donor.${i}`, null, Buffer.from(`donor payload ${i}`));
    await durable(d);
    await d.close();
    const donorBytes = readFileSync(join(donor, segs(donor)[0]));
    // The carrier stores it as payloads: whole, and from an offset inside its records.
    const s = (await openFileStore(dir, { sync: { kind: 'always' } })).store;
    s.append('carrier.1', null, Buffer.from('before'));
    s.append('carrier.2', null, donorBytes);
    s.append('carrier.3', null, donorBytes.subarray(72));
    s.append('carrier.4', null, Buffer.from('after'));
    await durable(s);
    await s.close();
    // Damage the header (length field) of record 2, so a scan must search for the next record.
    const file = join(dir, segs(dir)[0]);
    const b = readFileSync(file);
    const off2 = 72 + msgRecordLen(9, 0, 6);
    b[off2] ^= 0x40;
    writeFileSync(file, b);
    const { store: r, report } = await openFileStore(dir, { sync: { kind: 'always' } });
    assert.equal(report.truncated.length, 0);
    assert.equal(report.skipped.length, 1);
    assert.equal(report.skipped[0].offset, off2);
    assert.equal(r.get(1)?.payload.toString(), 'before');
    assert.equal(r.get(2), null);
    assert.ok(r.get(3)?.payload.equals(donorBytes.subarray(72)));
    assert.equal(r.get(4)?.payload.toString(), 'after');
    const st = r.state();
    assert.deepEqual([st.messages, st.lastSeq, st.numSubjects], [3, 4, 3]);
    assert.deepEqual(r.deletedSeqs(), [2]);
    for (let q = 5; q <= 60; q++) assert.equal(r.get(q), null, `no invented seq ${q}`);
    await r.close();
  } finally {
    removeDir(donor);
    removeDir(dir);
  }
});

test('an unkeyed segment (the format before segment keys) is read; damage there still cuts the tail', async () => {
  const dir = tempDir('oldfmt');
  try {
    // Written with the old layout: one plain SeqMark, then messages, CRCs unseeded (key 0).
    const parts: Buffer[] = [];
    const mark = Buffer.alloc(32);
    encodeMark(mark, 0, RecordType.SeqMark, 1, 1n, 0);
    parts.push(mark);
    for (let i = 1; i <= 10; i++) {
      const payload = Buffer.from(`old ${i}`);
      const len = msgRecordLen(5, 0, payload.length);
      const rec = Buffer.alloc(len);
      encodeMsg(rec, 0, len, i, BigInt(i), `old.${i % 10}`, 5, null, payload, 0);
      parts.push(rec);
    }
    const file = join(dir, 'seg-0000000001.log');
    const all = Buffer.concat(parts);
    writeFileSync(file, all);
    let { store: s, report } = await openFileStore(dir, { sync: { kind: 'always' } });
    assert.equal(report.truncated.length + report.skipped.length, 0);
    assert.deepEqual([s.state().messages, s.state().lastSeq], [10, 10]);
    assert.equal(s.get(7)?.payload.toString(), 'old 7');
    await s.close();
    // A flipped byte in record 5 of the old segment: everything from it on is cut, as before.
    const b = readFileSync(file);
    const off5 = 32 + 4 * parts[1].length;
    b[off5 + 30] ^= 1;
    writeFileSync(file, b.subarray(0, all.length));
    ({ store: s, report } = await openFileStore(dir, { sync: { kind: 'always' } }));
    assert.equal(report.skipped.length, 0);
    assert.equal(report.truncated.length, 1);
    assert.equal(report.truncated[0].offset, off5);
    assert.equal(s.state().messages, 4);
    await s.close();
  } finally {
    removeDir(dir);
  }
});
