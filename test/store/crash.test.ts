/**
 * Crash durability: a child process appends under load with sync: always and reports each seq
 * once `whenDurable` fired; the parent SIGKILLs it at a random moment, reopens the store and checks
 * that every reported seq is present with identical subject, headers and payload, and that seqs are
 * gapless. 20 iterations on one directory, so later runs start from recovered (maybe truncated)
 * state and segments rotate under the kills.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openFileStore } from '../../src/store/file/index.js';
import { contentOf } from './crash-content.js';
import { randInt, removeDir, rng, tempDir } from './helpers.js';

const ITERATIONS = 20;
const SEGMENT_BYTES = 64 * 1024;
const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

/**
 * Runs one child and SIGKILLs it once it has reported `reports` durable bursts or, when `afterMs`
 * is set, that many ms after it is ready (a moment unrelated to its write cycle).
 */
function runAndKill(dir: string, reports: number, afterMs: number | null): Promise<{ maxReported: number; reported: [number, number][] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(SEGMENT_BYTES)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reported: [number, number][] = [];
    let maxReported = 0;
    let buf = '';
    let err = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (killed) continue;
        if (line.startsWith('ready')) {
          if (afterMs !== null) {
            setTimeout(() => {
              killed = true;
              child.kill('SIGKILL');
            }, afterMs);
          }
          continue;
        }
        const [a, b] = line.split(' ').map(Number);
        reported.push([a, b]);
        if (b > maxReported) maxReported = b;
        if (afterMs === null && reported.length >= reports) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ maxReported, reported });
      else reject(new Error(`child exited with ${code}: ${err}`));
    });
  });
}

test('SIGKILL under load never loses a message whose durability was reported', async (t) => {
  const dir = tempDir('crash');
  const r = rng(Number(process.env.HERALD_CRASH_SEED ?? 7));
  let everReported = 0;
  let truncations = 0;
  try {
    for (let it = 0; it < ITERATIONS; it++) {
      const byTime = r() < 0.5;
      const { maxReported, reported } = await runAndKill(dir, 1 + randInt(r, 60), byTime ? 1 + randInt(r, 150) : null);
      everReported = Math.max(everReported, maxReported);
      const { store, report } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEGMENT_BYTES });
      truncations += report.truncated.length;
      const st = store.state();
      assert.equal(st.firstSeq, 1, `iteration ${it}`);
      assert.equal(st.messages, st.lastSeq, `iteration ${it}: seqs must be gapless`);
      assert.equal(st.numDeleted, 0);
      assert.ok(st.lastSeq >= everReported, `iteration ${it}: lastSeq ${st.lastSeq} < reported ${everReported}`);
      for (const [a, b] of reported) {
        for (let q = a; q <= b; q++) {
          const m = store.get(q);
          const want = contentOf(q);
          assert.ok(m !== null, `iteration ${it}: reported seq ${q} lost`);
          assert.equal(m.subject, want.subject);
          assert.deepEqual(m.headers, want.headers);
          assert.ok(m.payload.equals(want.payload), `iteration ${it}: payload of ${q}`);
        }
      }
      // Everything recovered (reported or not) must be intact too.
      for (let q = 1; q <= st.lastSeq; q += 1 + randInt(r, 50)) {
        const m = store.get(q);
        assert.ok(m !== null && m.payload.equals(contentOf(q).payload), `iteration ${it}: seq ${q}`);
      }
      await store.close();
    }
    assert.ok(everReported > 0, 'no child ever reported a durable append');
    // Not asserted (it depends on where the kill lands), but useful when reading test output.
    t.diagnostic(`${everReported} seqs reported durable, ${truncations} torn tails cut`);
  } finally {
    removeDir(dir);
  }
});
