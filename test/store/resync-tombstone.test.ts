// Review probe (fixed): resync skipped a damaged Tombstone / Floor record and the message it deleted
// came back. The batch's restating SeqMark now repeats the delete (docs/storage-format.md "Deletes
// survive one damaged record").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { openFileStore } from '../../src/store/file/index.js';
import { RECORD_OVERHEAD, RecordType } from '../../src/store/file/record.js';
import { durable, recordOffsets, removeDir, segmentFiles, tempDir } from './helpers.js';

for (const [what, type] of [
  ['tombstone', RecordType.Tombstone],
  ['floor (purge)', RecordType.Floor],
] as const) {
  test(`review: a damaged ${what} record is skipped and the deleted message stays deleted`, async () => {
    const dir = tempDir('tomb');
    try {
      const s = (await openFileStore(dir, { sync: { kind: 'always' } })).store;
      for (let i = 1; i <= 3; i++) s.append(`k.${i}`, null, Buffer.from(`v${i}`));
      await durable(s);
      if (type === RecordType.Tombstone) assert.ok(s.delete(2));
      else s.purge({ seq: 3 }); // everything below 3 goes
      await durable(s); // the delete / purge is acknowledged here
      for (let i = 4; i <= 5; i++) s.append(`k.${i}`, null, Buffer.from(`v${i}`));
      await durable(s);
      await s.close();
      const file = segmentFiles(dir)[0];
      const b = readFileSync(file);
      const at = recordOffsets(b, type)[0] ?? -1;
      assert.ok(at > 0, 'record found');
      b[at + RECORD_OVERHEAD - 1] ^= 0x01; // one flipped bit in its CRC
      writeFileSync(file, b);
      const { store: r, report } = await openFileStore(dir, { sync: { kind: 'always' } });
      assert.equal(report.skipped.length, 1, 'the damage is reported as a skipped record');
      assert.equal(report.skipped[0].deleteMayBeUndone, false, 'the restating mark covers it');
      // What the client was promised: seq 2 is gone.
      assert.equal(r.get(2), null, `seq 2 was deleted before the crash but is served again: ${r.get(2)?.payload}`);
      await r.close();
    } finally {
      removeDir(dir);
    }
  });
}
