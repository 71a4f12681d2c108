/**
 * Child process of crash.test.ts: appends to a file store (sync: always) as fast as group commit
 * allows and prints "<from> <to>" on stdout once `whenDurable` fired for those seqs, until the
 * parent SIGKILLs it. Message content is a pure function of the seq (crash-content.ts), so the
 * parent can check every reported message byte for byte.
 *
 * With mode `deletes` it also deletes (some erasing, many at the head, so floors, tombstones,
 * compaction and segment removal all happen under the kill): it prints "x <seq>" before each
 * delete (the parent must then accept the seq as gone) and "X <seq>" once the delete is durable
 * (the seq must then stay gone).
 *
 * Usage: node crash-child.js <dir> <segmentBytes> [appends|deletes]
 */
import { openFileStore } from '../../src/store/file/index.js';
import { childMain, runTurns } from './child-loop.js';
import { contentOf } from './crash-content.js';

async function main(): Promise<void> {
  const dir = process.argv[2];
  const segmentBytes = Number(process.argv[3]);
  const deletes = process.argv[4] === 'deletes';
  const { store } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes });
  let next = store.state().lastSeq + 1;
  runTurns(store, () => {
    const burst = 1 + ((next * 7919) % 64);
    const from = next;
    for (let k = 0; k < burst; k++) {
      const c = contentOf(next);
      const { seq } = store.append(c.subject, c.headers, c.payload);
      if (seq !== next) throw new Error(`expected seq ${next}, got ${seq}`);
      next++;
    }
    let report = `${from} ${next - 1}\n`;
    if (deletes) {
      for (let k = 0; k < burst / 2; k++) {
        const st = store.state();
        if (st.messages === 0) break;
        const pick = (next * 31 + k * 17) % 3 === 0 ? st.firstSeq + ((next + k) % (st.lastSeq - st.firstSeq + 1)) : st.firstSeq;
        if (store.get(pick) === null) continue;
        process.stdout.write(`x ${pick}\n`); // before the delete: the parent must know first
        if (!store.delete(pick, k % 5 === 0)) throw new Error(`delete ${pick} failed`);
        report += `X ${pick}\n`;
      }
    }
    return { appends: burst, report };
  });
}

childMain(main);
