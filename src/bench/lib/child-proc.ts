/**
 * The orchestrator's side of one forked load-generator process, whatever its messages: bounded
 * waits for a message type over the IPC channel, a kill by pid if it does not exit by itself,
 * and a failure text with the process's own error and stderr tail. Subclasses (worker-proc.ts,
 * latency/proc.ts) add their conversation.
 */
import type { ChildProcess } from 'node:child_process';

/** How long a stopped process gets to exit by itself before SIGKILL, ms. */
const EXIT_GRACE_MS = 3_000;
/** Bytes of a process's stderr kept for error messages. */
const STDERR_KEEP = 4096;

/** Any child → parent message: a tag `t`; an `error` message carries `message`. */
export interface TaggedMsg {
  t: string;
}

/** See the file comment. Cost: one listener set per process; waits are timers, never polls. */
export abstract class ChildProc<M extends TaggedMsg> {
  /** First error the process reported. */
  error: string | null = null;
  private stderr = '';
  private waiters: Array<{ type: M['t']; resolve: (m: M | null) => void }> = [];
  private exited = false;

  constructor(
    readonly child: ChildProcess,
    private readonly label: string,
  ) {
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-STDERR_KEEP);
    });
    this.child.on('message', (m: M) => this.dispatch(m));
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

  /** True once the process has exited. */
  get gone(): boolean {
    return this.exited;
  }

  /** Records what a message carries (results, times) before waiters see it. */
  protected abstract onMessage(m: M): void;

  private dispatch(m: M): void {
    this.onMessage(m);
    if (m.t === 'error') this.error ??= (m as unknown as { message: string }).message;
    const i = this.waiters.findIndex((w) => w.type === m.t || m.t === 'error');
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
  }

  /** Sends a message if the channel is still open. */
  protected send(msg: object): void {
    if (this.child.connected) this.child.send(msg);
  }

  /** Waits for a message of `type` (or an error, or exit), at most timeoutMs. */
  protected wait(type: M['t'], timeoutMs: number): Promise<M | null> {
    if (this.exited) return Promise.resolve(null);
    return new Promise((resolve) => {
      const w = {
        type,
        resolve: (m: M | null) => {
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

  /** Waits for exit, then SIGKILLs by pid if the process is still there. */
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

  /** An error message with the process's own error and stderr tail. */
  describeFailure(what: string): string {
    const parts = [`${this.label} ${what}`];
    if (this.error) parts.push(this.error);
    if (this.stderr.trim()) parts.push(this.stderr.trim().split('\n').slice(-5).join('\n'));
    return parts.join(': ');
  }
}
