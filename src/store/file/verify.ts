/**
 * Index files are a cache, never a source of truth: a sealed segment loaded from its index file was
 * not read at open, so the store checks it afterwards, as a writer job (between group commits):
 * one read of the file, every live slot's record CRC-checked under the segment key. The records
 * that fail are the ones a scan without the index file would have skipped (scan.ts), so once
 * every check ran the store holds the same messages, with or without index files.
 */
import { readFile } from 'node:fs/promises';
import { checkRecord, NEED_MORE, readSeq, reasonText, RecordType } from './record.js';
import { DEAD_BIT, SIZE_MASK, type Segment } from './segment.js';

/** A live slot whose record does not check out. */
export interface DamagedSlot {
  seq: number;
  offset: number;
  reason: string;
}

/** Live slots of `seg` whose record fails its checks. Costs one read of the segment file. */
export async function damagedSlots(seg: Segment): Promise<DamagedSlot[]> {
  if (seg.retired) return [];
  seg.busy++;
  try {
    const b = await readFile(seg.path);
    const out: DamagedSlot[] = [];
    for (let i = 0; i < seg.n; i++) {
      const bits = seg.sizes[i];
      if ((bits & DEAD_BIT) !== 0) continue;
      const off = seg.offs[i];
      const len = bits & SIZE_MASK;
      const seq = seg.seqAt(i);
      const ok = off + len <= b.length ? checkRecord(b, off, len, seg.key) : NEED_MORE;
      if (ok !== len || b[off + 4] !== RecordType.Msg || readSeq(b, off) !== seq) {
        out.push({ seq, offset: off, reason: ok < 0 ? reasonText(ok) : 'record does not match index' });
      }
    }
    return out;
  } finally {
    seg.busy--;
  }
}
