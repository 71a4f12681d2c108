/**
 * Child process of crash.test.ts: appends to a file store (sync: always) as fast as group commit
 * allows and prints "<from> <to>" on stdout once `whenDurable` fired for those seqs, until the
 * parent SIGKILLs it. Message content is a pure function of the seq (crash-content.ts), so the
 * parent can check every reported message byte for byte.
 *
 * Usage: node crash-child.js <dir> <segmentBytes>
 */
import { openFileStore } from '../../src/store/file/index.js';
import { contentOf } from './crash-content.js';

/** Appends kept in flight before waiting for durability: load without unbounded memory. */
const MAX_OUTSTANDING = 1000;

async function main(): Promise<void> {
  const dir = process.argv[2];
  const segmentBytes = Number(process.argv[3]);
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
      outstanding += burst;
      store.whenDurable((err) => {
        if (err !== null) throw err;
        outstanding -= burst;
        process.stdout.write(`${from} ${to}\n`);
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
