// A herald in a child process (crash-child.ts) for the crash tests: start it on a data dir and
// wait for READY, or SIGKILL it by pid. Shared by test/jetstream/crash.test.ts and
// test/consumers/restart.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.js');
/** Start-up budget for the child, ms. */
const START_TIMEOUT_MS = 10_000;

/** Starts `script` (crash-child.js by default) on `dataDir`; resolves with what it printed after READY. */
export function startChild(dataDir: string, script = CHILD): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not start: ${err}`));
    }, START_TIMEOUT_MS);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}: ${err}`));
    });
  });
}

export function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
}
