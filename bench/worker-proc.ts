/**
 * The orchestrator's handle on one load-generator process: fork, the IPC conversation with
 * bounded waits, and a kill by pid if it does not exit by itself.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMsg, Progress, RoleConfig, RoleResult } from './lib/ipc.js';

/** How long a stopped worker gets to exit by itself before SIGKILL, ms. */
const EXIT_GRACE_MS = 3_000;
/** Bytes of a worker's stderr kept for error messages. */
const STDERR_KEEP = 4096;
/** How long a progress poll may take, ms. */
const POLL_TIMEOUT_MS = 1_000;

/** The compiled worker entry, next to this file's compiled form. */
const WORKER_PATH = fileURLToPath(new URL('./workers/worker.js', import.meta.url));

type Waiter = { type: ChildMsg['t']; resolve: (m: ChildMsg | null) => void };

/** One forked worker process. */
export class WorkerProc {
  readonly child: ChildProcess;
  /** The final result (from `done` or `result`), once it arrived. */
  result: RoleResult | null = null;
  /** Monotonic ms at which a latency role finished its warm-up. */
  measuringAt: number | null = null;
  /** First error the worker reported. */
  error: string | null = null;
  private stderr = '';
  private waiters: Waiter[] = [];
  private exited = false;

  constructor(readonly cfg: RoleConfig) {
    this.child = fork(WORKER_PATH, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [], serialization: 'json' });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-STDERR_KEEP);
    });
    this.child.on('message', (m: ChildMsg) => this.onMessage(m));
    this.child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w.resolve(null);
    });
    this.child.on('error', () => undefined);
  }

  /** The process id (for CPU sampling and stopping). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  private onMessage(m: ChildMsg): void {
    if (m.t === 'done' || m.t === 'result') this.result = m.result;
    if (m.t === 'measuring') this.measuringAt = m.at;
    if (m.t === 'error') this.error ??= m.message;
    const i = this.waiters.findIndex((w) => w.type === m.t || m.t === 'error');
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
  }

  private send(msg: object): void {
    if (this.child.connected) this.child.send(msg);
  }

  /** Waits for a message of `type` (or an error, or exit), at most timeoutMs. */
  private wait(type: ChildMsg['t'], timeoutMs: number): Promise<ChildMsg | null> {
    if (this.exited) return Promise.resolve(null);
    return new Promise((resolve) => {
      const w: Waiter = {
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Sends the role and waits until it is connected and subscribed. */
  async init(timeoutMs: number): Promise<void> {
    const ready = this.wait('ready', timeoutMs);
    this.send({ t: 'init', cfg: this.cfg });
    const m = await ready;
    if (m?.t !== 'ready') throw new Error(this.describeFailure('did not become ready'));
  }

  /** Starts the measured phase. */
  start(): void {
    this.send({ t: 'start' });
  }

  /** Waits for a latency role's warm-up to end. */
  async waitMeasuring(timeoutMs: number): Promise<number | null> {
    if (this.measuringAt !== null) return this.measuringAt;
    await this.wait('measuring', timeoutMs);
    return this.measuringAt;
  }

  /** Waits for a self-finishing role's result. */
  async waitDone(timeoutMs: number): Promise<RoleResult | null> {
    if (this.result) return this.result;
    await this.wait('done', timeoutMs);
    return this.result;
  }

  /** Current counts, or null if the worker does not answer. */
  async poll(): Promise<Progress | null> {
    if (this.exited) return null;
    const p = this.wait('progress', POLL_TIMEOUT_MS);
    this.send({ t: 'poll' });
    const m = await p;
    return m?.t === 'progress' ? m.p : null;
  }

  /** Tells the role to stop and returns its result (null if it never answered). */
  async stop(timeoutMs: number): Promise<RoleResult | null> {
    if (this.exited) return this.result;
    const r = this.wait('result', timeoutMs);
    this.send({ t: 'stop' });
    await r;
    return this.result;
  }

  /** Waits for exit, then SIGKILLs by pid if the worker is still there. */
  async reap(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        try {
          if (this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        resolve();
      }, EXIT_GRACE_MS);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (this.child.connected) this.child.disconnect();
    });
  }

  /** An error message with the worker's own error and stderr tail. */
  describeFailure(what: string): string {
    const parts = [`${this.cfg.label} (${this.cfg.role}) ${what}`];
    if (this.error) parts.push(this.error);
    if (this.stderr.trim()) parts.push(this.stderr.trim().split('\n').slice(-5).join('\n'));
    return parts.join(': ');
  }
}
