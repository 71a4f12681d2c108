/**
 * The orchestrator's handle on one latency generator process. It is started through
 * `sh -c 'ulimit -n N; exec node worker.js'` so a process holding thousands of connections gets
 * the file descriptors it needs (up to the hard limit) without changing the caller's limits;
 * the IPC channel survives the exec, and so does the pid. Every wait is bounded.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ChildProc } from '../lib/child-proc.js';
import type { LatChildMsg, LatResult, LatRoleConfig } from './ipc.js';

/** Descriptors a generator needs beyond its connections (node itself, IPC, stdio). */
const FD_HEADROOM = 256;
/** How long a progress poll may take, ms. */
const POLL_TIMEOUT_MS = 1_000;

const WORKER_PATH = fileURLToPath(new URL('./worker.js', import.meta.url));

/** One generator process. */
export class LatProc extends ChildProc<LatChildMsg> {
  result: LatResult | null = null;
  finishedAt: number | null = null;

  constructor(readonly cfg: LatRoleConfig) {
    const fds = cfg.subjects.length + cfg.pubIds.length + FD_HEADROOM;
    // `ulimit -n` fails above the hard limit; then the soft limit is raised as far as allowed.
    const script = `ulimit -n ${fds} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"`;
    super(
      spawn('sh', ['-c', script, process.execPath, WORKER_PATH], {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'json',
      }),
      cfg.label,
    );
  }

  protected onMessage(m: LatChildMsg): void {
    if (m.t === 'result') this.result = m.result;
    if (m.t === 'finished') this.finishedAt = m.at;
  }

  /** Sends the role; resolves when all its connections are up. */
  async init(timeoutMs: number): Promise<void> {
    const ready = this.wait('ready', timeoutMs);
    this.send({ t: 'init', cfg: this.cfg });
    const m = await ready;
    if (m?.t !== 'ready') throw new Error(this.describeFailure('did not become ready'));
  }

  /** Starts a publisher's schedule at `atMs` (monotonic); subscribers ignore it. */
  start(atMs: number): void {
    this.send({ t: 'start', atMs });
  }

  /** Waits until a publisher's schedule ran out; the monotonic time it did, or null on timeout. */
  async waitFinished(timeoutMs: number): Promise<number | null> {
    if (this.finishedAt !== null) return this.finishedAt;
    await this.wait('finished', timeoutMs);
    return this.finishedAt;
  }

  /** Counts so far, or null if the process did not answer in time. */
  async poll(): Promise<{ sent: number; received: number; disconnects: number } | null> {
    if (this.gone) return null;
    const p = this.wait('progress', POLL_TIMEOUT_MS);
    this.send({ t: 'poll' });
    const m = await p;
    return m?.t === 'progress' ? m : null;
  }

  /** Stops the role and returns its result (null if it never answered). */
  async stop(timeoutMs: number): Promise<LatResult | null> {
    if (this.gone) return this.result;
    const r = this.wait('result', timeoutMs);
    this.send({ t: 'stop' });
    await r;
    return this.result;
  }
}
