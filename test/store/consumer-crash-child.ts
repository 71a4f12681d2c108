/**
 * Child process of consumer-crash.test.ts: appends messages to a file store (sync: always) and, in
 * the same turn, records each one's delivery to consumer `c` and acks the even ones at once; odd
 * ones are acked ACK_LAG seqs later. Once `whenDurable` fired it prints "<from> <to>" for the
 * messages and "a <seq>" for every late ack of that turn, until the parent SIGKILLs it. Small
 * bursts with a lagging ack keep pending small and COMPACT_BYTES is tiny, so the consumer log is
 * compacted (switched to a new file) many times under the kills.
 *
 * Usage: node consumer-crash-child.js <dir>
 */
import { openFileStore } from '../../src/store/file/index.js';
import { childMain, runTurns } from './child-loop.js';
import { ACK_LAG, COMPACT_BYTES, CONSUMER_CONFIG as CONFIG, contentOf } from './crash-content.js';

async function main(): Promise<void> {
  const { store } = await openFileStore(process.argv[2], {
    sync: { kind: 'always' },
    segmentBytes: 64 * 1024,
    consumerCompactBytes: COMPACT_BYTES,
  });
  const c = store.consumer('c');
  if (c.config() === null) c.setConfig(Buffer.from(CONFIG));
  const st = c.state();
  let dseq = st.delivered.consumerSeq;
  const lagging = new Map<number, number>();
  for (const [sseq, p] of st.pending) lagging.set(sseq, p.dseq);
  let next = store.state().lastSeq + 1;
  runTurns(store, () => {
    const burst = 1 + ((next * 7919) % 16);
    let report = `${next} ${next + burst - 1}\n`;
    for (let k = 0; k < burst; k++) {
      const m = contentOf(next);
      const { seq } = store.append(m.subject, m.headers, m.payload);
      if (seq !== next) throw new Error(`expected seq ${next}, got ${seq}`);
      c.updateDelivered(++dseq, seq, 1, Date.now() * 1e6);
      if (seq % 2 === 0) {
        if (!c.updateAcks(dseq, seq)) throw new Error(`ack of ${seq} refused`);
      } else lagging.set(seq, dseq);
      for (const [q, d] of lagging) {
        if (q > seq - ACK_LAG) break;
        if (!c.updateAcks(d, q)) throw new Error(`late ack of ${q} refused`);
        lagging.delete(q);
        report += `a ${q}\n`;
      }
      next++;
    }
    return { appends: burst, report };
  });
}

childMain(main);
