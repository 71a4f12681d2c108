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
import { contentOf } from './crash-content.js';

/** Appends kept in flight before waiting for durability: load without unbounded memory. */
const MAX_OUTSTANDING = 1000;

async function main(): Promise<void> {
  const dir = process.argv[2];
  const segmentBytes = Number(process.argv[3]);
  const deletes = process.argv[4] === 'deletes';
  const { store } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes });
  let outstanding = 0;
  let next = store.state().lastSeq + 1;
  process.stdout.write(`ready ${next}\n`);
  const turn = (): void => {
    const burst = 1 + ((next * 7919) % 64);
    if (outstanding < MAX_OUTSTANDING) {
      const from = next;
      for (let k = 0; k < burst; k++) {
        const c = contentOf(next);
        const { seq } = store.append(c.subject, c.headers, c.payload);
        if (seq !== next) throw new Error(`expected seq ${next}, got ${seq}`);
        next++;
      }
      const to = next - 1;
      const gone: number[] = [];
      if (deletes) {
        for (let k = 0; k < burst / 2; k++) {
          const st = store.state();
          if (st.messages === 0) break;
          const pick = (next * 31 + k * 17) % 3 === 0 ? st.firstSeq + ((next + k) % (st.lastSeq - st.firstSeq + 1)) : st.firstSeq;
          if (store.get(pick) === null) continue;
          process.stdout.write(`x ${pick}\n`); // before the delete: the parent must know first
          if (!store.delete(pick, k % 5 === 0)) throw new Error(`delete ${pick} failed`);
          gone.push(pick);
        }
      }
      outstanding += burst;
      store.whenDurable((err) => {
        if (err !== null) throw err;
        outstanding -= burst;
        let out = `${from} ${to}\n`;
        for (const g of gone) out += `X ${g}\n`;
        process.stdout.write(out);
      });
    }
    setImmediate(turn);
  };
  turn();
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(2);
});
