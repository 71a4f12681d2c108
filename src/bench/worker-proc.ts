/**
 * The orchestrator's handle on one load-generator process: fork, the IPC conversation with
 * bounded waits, and a kill by pid if it does not exit by itself.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ChildProc } from './lib/child-proc.js';
import type { ChildMsg, Progress, RoleConfig, RoleResult } from './lib/ipc.js';

/** How long a progress poll may take, ms. */
const POLL_TIMEOUT_MS = 1_000;

/** The compiled worker entry, next to this file's compiled form. */
const WORKER_PATH = fileURLToPath(new URL('./workers/worker.js', import.meta.url));

/** One forked worker process. */
export class WorkerProc extends ChildProc<ChildMsg> {
  /** The final result (from `done` or `result`), once it arrived. */
  result: RoleResult | null = null;
  /** Monotonic ms at which a latency role finished its warm-up. */
  measuringAt: number | null = null;

  constructor(readonly cfg: RoleConfig) {
    super(
      fork(WORKER_PATH, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [], serialization: 'json' }),
      `${cfg.label} (${cfg.role})`,
    );
  }

  protected onMessage(m: ChildMsg): void {
    if (m.t === 'done' || m.t === 'result') this.result = m.result;
    if (m.t === 'measuring') this.measuringAt = m.at;
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
    if (this.gone) return null;
    const p = this.wait('progress', POLL_TIMEOUT_MS);
    this.send({ t: 'poll' });
    const m = await p;
    return m?.t === 'progress' ? m.p : null;
  }

  /** Tells the role to stop and returns its result (null if it never answered). */
  async stop(timeoutMs: number): Promise<RoleResult | null> {
    if (this.gone) return this.result;
    const r = this.wait('result', timeoutMs);
    this.send({ t: 'stop' });
    await r;
    return this.result;
  }
}
