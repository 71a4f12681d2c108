/**
 * Consumer state under SIGKILL: a child appends messages and records each one's delivery (and the
 * ack of half of them) in the same turn, reporting what `whenDurable` confirmed; the parent kills
 * it at a random moment and reopens. Every confirmed message is there; every confirmed ack is
 * there (the entry is no longer pending); every confirmed delivery not yet acked is pending; and
 * the consumer never refers to a message the stream lost (an ack and its message share a batch).
 * Iterations reuse the directory, so later runs start from recovered state and the consumer log
 * is compacted under the kills.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openFileStore } from '../../src/store/file/index.js';
import { onLines } from './child-loop.js';
import { ACK_LAG, CONSUMER_CONFIG as CONFIG } from './crash-content.js';
import { randInt, removeDir, rng, tempDir } from './helpers.js';

/** Kill/reopen cycles; together well under 30 s. */
const ITERATIONS = 10;
const CHILD = fileURLToPath(new URL('./consumer-crash-child.js', import.meta.url));
/** Bound on one child's life: it is killed long before unless it hangs. */
const CHILD_TIMEOUT_MS = 20_000;

interface Run {
  reported: [number, number][];
  lateAcks: number[];
}

function runAndKill(dir: string, reports: number, afterMs: number | null): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = { reported: [], lateAcks: [] };
    let err = '';
    let killed = false;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const guard = setTimeout(() => {
      kill();
      reject(new Error(`child did not reach ${reports} reports within ${CHILD_TIMEOUT_MS} ms: ${err}`));
    }, CHILD_TIMEOUT_MS);
    onLines(child.stdout, (line) => {
      if (line.startsWith('ready')) {
        if (afterMs !== null) setTimeout(kill, afterMs);
      } else if (line.startsWith('a ')) run.lateAcks.push(Number(line.slice(2)));
      else {
        const [a, b] = line.split(' ').map(Number);
        run.reported.push([a, b]);
        if (afterMs === null && run.reported.length >= reports) kill();
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (signal === 'SIGKILL') resolve(run);
      else reject(new Error(`child exited with ${code}: ${err}`));
    });
  });
}

test('SIGKILL never loses a durable consumer update, and an ack never outlives its message', async (t) => {
  const dir = tempDir('ccrash');
  const r = rng(Number(process.env.HERALD_CRASH_SEED ?? 7) + 2000);
  const delivered = new Set<number>();
  const acked = new Set<number>();
  let maxReported = 0;
  let cuts = 0;
  let gens = 0;
  try {
    for (let it = 0; it < ITERATIONS; it++) {
      const byTime = r() < 0.5;
      const run = await runAndKill(dir, 1 + randInt(r, 80), byTime ? 1 + randInt(r, 200) : null);
      for (const [a, b] of run.reported) {
        for (let q = a; q <= b; q++) {
          delivered.add(q);
          if (q % 2 === 0) acked.add(q);
        }
        maxReported = Math.max(maxReported, b);
      }
      for (const q of run.lateAcks) acked.add(q);
      const { store, report } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: 64 * 1024 });
      cuts += report.truncated.length;
      const ctx = `iteration ${it}`;
      const last = store.state().lastSeq;
      assert.ok(last >= maxReported, `${ctx}: lastSeq ${last} < reported ${maxReported}`);
      if (maxReported === 0 && store.consumerNames().length === 0) {
        // Killed before anything was durable: the consumer's creation may be lost with it.
        await store.close();
        continue;
      }
      assert.deepEqual(store.consumerNames(), ['c'], ctx);
      const logs = readdirSync(dir).filter((f) => f.startsWith('cons-'));
      assert.equal(logs.length, 1, `${ctx}: one consumer log after recovery (${logs.join(', ')})`);
      gens = Math.max(gens, Number(/\.(\d+)\.log$/.exec(logs[0])?.[1]));
      const c = store.consumer('c');
      assert.equal(c.config()?.toString(), CONFIG, `${ctx}: config`);
      const st = c.state();
      assert.ok(st.delivered.streamSeq >= maxReported, `${ctx}: delivered ${st.delivered.streamSeq} < ${maxReported}`);
      assert.ok(st.delivered.streamSeq <= last, `${ctx}: delivery of seq ${st.delivered.streamSeq} beyond the stream (${last})`);
      for (const q of delivered) {
        assert.ok(store.get(q) !== null, `${ctx}: reported message ${q} lost`);
        if (acked.has(q)) assert.ok(!st.pending.has(q), `${ctx}: durable ack of ${q} lost`);
        // An unreported late ack may have reached the log, but only after the delivery it follows.
        else if (st.delivered.streamSeq < q + ACK_LAG)
          assert.ok(st.pending.has(q), `${ctx}: durable delivery of ${q} not pending`);
      }
      for (const q of st.pending.keys()) assert.ok(store.get(q) !== null, `${ctx}: pending ${q} has no message`);
      await store.close();
    }
    assert.ok(maxReported > 0, 'no child ever reported a durable update');
    assert.ok(gens > ITERATIONS, `the consumer log was compacted under the kills (generation ${gens})`);
    t.diagnostic(
      `${maxReported} messages with deliveries reported durable, ${acked.size} acks, ${cuts} torn tails cut, log generation ${gens}`,
    );
  } finally {
    removeDir(dir);
  }
});
