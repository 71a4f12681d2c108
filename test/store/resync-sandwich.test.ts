// Review probe (fixed): a valid, acknowledged record between two damaged ones used to be dropped by
// resync (resyncPoint wanted a candidate followed by another valid record, EOF or a torn tail); a
// lone record whose seq fits the gap is now kept (docs/storage-format.md "Resynchronisation").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { openFileStore } from '../../src/store/file/index.js';
import { RECORD_OVERHEAD, RecordType } from '../../src/store/file/record.js';
import { durable, recordOffsets, removeDir, segmentFiles, tempDir } from './helpers.js';

test('review: a valid record between two damaged records survives recovery', async () => {
  const dir = tempDir('sandwich');
  try {
    const s = (await openFileStore(dir, { sync: { kind: 'always' } })).store;
    for (let i = 1; i <= 5; i++) s.append(`k.${i}`, null, Buffer.from(`value ${i}`));
    await durable(s); // all five acknowledged
    await s.close();
    const file = segmentFiles(dir)[0];
    const b = readFileSync(file);
    const offs = recordOffsets(b, RecordType.Msg);
    assert.equal(offs.length, 5);
    b[offs[1] + RECORD_OVERHEAD] ^= 0xff; // damage seq 2 (a payload byte: CRC fails)
    b[offs[3] + RECORD_OVERHEAD] ^= 0xff; // damage seq 4
    writeFileSync(file, b);
    const { store: r, report } = await openFileStore(dir, { sync: { kind: 'always' } });
    const alive = [1, 2, 3, 4, 5].filter((q) => r.get(q) !== null);
    assert.deepEqual(alive, [1, 3, 5], `alive ${alive}; skipped ${JSON.stringify(report.skipped)}`);
    // Every lost seq is named, worked out from the gap around each damaged record.
    assert.deepEqual(
      report.skipped.map((k) => [k.firstSeqLost, k.lastSeqLost, k.deleteMayBeUndone]),
      [
        [2, 2, false],
        [4, 4, false],
      ],
    );
    await r.close();
  } finally {
    removeDir(dir);
  }
});
