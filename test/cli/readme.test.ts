// The README's code runs as written: its JetStream example (against a herald on a random port)
// finishes by itself, so a user's copy of it exits instead of hanging on an open connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Server, silentLogger } from '../../src/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
/** How long the example may take before it counts as hanging. */
const EXAMPLE_TIMEOUT_MS = 20_000;

test("the README's JetStream example runs and exits by itself", async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes('jetstreamManager'));
  assert.ok(block !== undefined, 'README has a JetStream example');
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-readme-'));
  const server = await Server.start({ port: 0, dataDir, logger: silentLogger() });
  // Beside the repository's node_modules, so the example's imports resolve as in a user's project.
  const file = join(ROOT, 'dist', `.readme-example-${process.pid}.mjs`);
  try {
    writeFileSync(file, block.replace('nats://127.0.0.1:4222', server.url));
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), EXAMPLE_TIMEOUT_MS);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
    clearTimeout(timer);
    assert.equal(signal, null, `the example did not exit within ${EXAMPLE_TIMEOUT_MS} ms: ${out}`);
    assert.equal(code, 0, out);
    assert.match(out, /^1\n\{"id":1\}\n$/);
  } finally {
    rmSync(file, { force: true });
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
