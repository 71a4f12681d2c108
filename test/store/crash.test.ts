/**
 * Crash durability: a child process appends under load with sync: always and reports each seq
 * once `whenDurable` fired; the parent SIGKILLs it at a random moment, reopens the store and checks
 * that every reported seq is present with identical subject, headers and payload, and that seqs are
 * gapless. A second mode also deletes (head and interior, some erasing) and checks that durable
 * deletes stay deleted. 12 iterations per mode on one directory, so later runs start from
 * recovered (maybe truncated) state and segments rotate under the kills; every iteration must
 * have had new durable appends when it was killed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openFileStore } from '../../src/store/file/index.js';
import { onLines } from './child-loop.js';
import { contentOf } from './crash-content.js';
import { randInt, removeDir, rng, tempDir } from './helpers.js';

/** Kill/reopen cycles per mode; both modes together stay well under 30 s. */
const ITERATIONS = 12;
const SEGMENT_BYTES = 64 * 1024;
/** Smaller segments with deletes, so compaction and whole-segment removal happen under the kills. */
function segmentBytesFor(mode: 'appends' | 'deletes'): number {
  return mode === 'deletes' ? SEGMENT_BYTES / 4 : SEGMENT_BYTES;
}
/** A child that has not been killed by this time (it stopped reporting) fails the round instead of hanging it. */
const CHILD_MAX_MS = 30_000;
const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

/**
 * Runs one child and SIGKILLs it once it has reported `reports` durable bursts or, when `afterMs`
 * is set, that many ms after its first durable burst (a moment unrelated to its write cycle, and
 * late enough that the round has something durable to lose).
 */
interface ChildRun {
  maxReported: number;
  /** Append ranges reported durable. */
  reported: [number, number][];
  /** Seqs the child started deleting (may be gone) and whose delete was reported durable. */
  maybeGone: number[];
  gone: number[];
}

function runAndKill(dir: string, mode: 'appends' | 'deletes', reports: number, afterMs: number | null): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(segmentBytesFor(mode)), mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const reported: [number, number][] = [];
    const maybeGone: number[] = [];
    const gone: number[] = [];
    let maxReported = 0;
    let err = '';
    let killed = false;
    let stuck = false;
    // Lines that arrive after the kill are still facts the child wrote before it died.
    onLines(child.stdout, (line) => {
      if (line.startsWith('ready')) return;
      if (line.startsWith('x ')) maybeGone.push(Number(line.slice(2)));
      else if (line.startsWith('X ')) gone.push(Number(line.slice(2)));
      else {
        const [a, b] = line.split(' ').map(Number);
        reported.push([a, b]);
        if (b > maxReported) maxReported = b;
        if (afterMs !== null && reported.length === 1 && !killed) {
          setTimeout(() => {
            killed = true;
            child.kill('SIGKILL');
          }, afterMs);
        }
        if (!killed && afterMs === null && reported.length >= reports) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(() => {
      if (killed) return;
      killed = true;
      err += `(killed by the test: ${reported.length} durable bursts reported in ${CHILD_MAX_MS} ms, the kill was due after ${afterMs === null ? `${reports} bursts` : `${afterMs} ms past the first`})`;
      child.kill('SIGKILL');
      stuck = true;
    }, CHILD_MAX_MS);
    // 'close' comes after stdout ended, so every line the child wrote has been seen.
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (stuck) reject(new Error(`child stopped making progress: ${err}`));
      else if (signal === 'SIGKILL') resolve({ maxReported, reported, maybeGone, gone });
      else reject(new Error(`child exited with ${code}: ${err}`));
    });
  });
}

for (const mode of ['appends', 'deletes'] as const) {
  test(`SIGKILL under load never loses a durable ${mode === 'appends' ? 'append' : 'append or delete'}`, async (t) => {
    const dir = tempDir('crash');
    const r = rng(Number(process.env.HERALD_CRASH_SEED ?? 7) + (mode === 'deletes' ? 1000 : 0));
    let everReported = 0;
    let truncations = 0;
    const maybeGone = new Set<number>();
    const gone = new Set<number>();
    const reportedLive = new Set<number>();
    try {
      for (let it = 0; it < ITERATIONS; it++) {
        const byTime = r() < 0.5;
        const run = await runAndKill(dir, mode, 1 + randInt(r, 60), byTime ? 1 + randInt(r, 150) : null);
        // Every round must put new durable data at risk, or it proved nothing (a total over all
        // rounds would pass with most of them idle).
        assert.ok(
          run.reported.length > 0 && run.maxReported > everReported,
          `${mode} iteration ${it}: the child reported nothing new durable before the kill (max ${run.maxReported}, before ${everReported})`,
        );
        everReported = Math.max(everReported, run.maxReported);
        for (const q of run.maybeGone) maybeGone.add(q);
        for (const q of run.gone) gone.add(q);
        for (const [a, b] of run.reported) for (let q = a; q <= b; q++) reportedLive.add(q);
        const { store, report } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: segmentBytesFor(mode) });
        truncations += report.truncated.length;
        const st = store.state();
        const ctx = `${mode} iteration ${it}`;
        assert.ok(st.lastSeq >= everReported, `${ctx}: lastSeq ${st.lastSeq} < reported ${everReported}`);
        for (const q of gone) assert.equal(store.get(q), null, `${ctx}: durably deleted seq ${q} is back`);
        for (const q of reportedLive) {
          if (maybeGone.has(q)) continue;
          assert.ok(store.get(q) !== null, `${ctx}: reported seq ${q} lost`);
        }
        // Gapless: every seq up to lastSeq is present (and intact) unless a delete was started on it.
        let present = 0;
        for (let q = 1; q <= st.lastSeq; q++) {
          const m = store.get(q);
          if (m === null) {
            assert.ok(maybeGone.has(q), `${ctx}: gap at seq ${q}`);
            continue;
          }
          present++;
          const want = contentOf(q);
          assert.equal(m.subject, want.subject, `${ctx}: subject of ${q}`);
          assert.deepEqual(m.headers, want.headers, `${ctx}: headers of ${q}`);
          assert.ok(m.payload.equals(want.payload), `${ctx}: payload of ${q}`);
        }
        assert.equal(st.messages, present, `${ctx}: message count`);
        await store.close();
      }
      t.diagnostic(`${ITERATIONS} rounds, each killed with new durable appends; ${everReported} seqs reported durable, ${gone.size} deletes reported durable, ${truncations} torn tails cut`);
    } finally {
      removeDir(dir);
    }
  });
}
