/**
 * The progress display: on a terminal, one status line rewritten in place (run i of n, workload,
 * server, phase, seconds, messages so far, ETA); one permanent line per finished run. Without a
 * terminal only the permanent lines are printed. Writes to stderr so stdout stays the table.
 */
import { fmtNum, fmtRate } from './lib/stats.js';
import type { RunRecord } from './runner.js';

/** Status-line redraws are throttled to this interval, ms. */
const REDRAW_MS = 100;

/** Renders progress for a suite of `total` runs. */
export class ProgressDisplay {
  private readonly tty: boolean;
  private lastDraw = 0;
  private done = 0;
  private readonly started = Date.now();
  private current = '';

  constructor(
    private readonly total: number,
    private readonly estimateS: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    enabled = true,
  ) {
    this.tty = enabled && Boolean(out.isTTY);
  }

  /** A run begins. */
  begin(round: number, rounds: number, workload: string, target: string): void {
    this.current = `[${this.done + 1}/${this.total}] round ${round}/${rounds} · ${workload} · ${target}`;
    this.draw(this.current, true);
  }

  /** Counts from the run in progress. */
  update(phase: string, elapsedMs: number, totalMs: number, received: number): void {
    const now = Date.now();
    if (!this.tty || now - this.lastDraw < REDRAW_MS) return;
    const secs = `${(elapsedMs / 1000).toFixed(1)}/${(totalMs / 1000).toFixed(0)} s`;
    this.draw(`${this.current} · ${phase} ${secs} · ${fmtRate(received)} msgs · ${this.eta()}`, false);
  }

  /** A run ended: prints its one-line outcome. */
  finish(r: RunRecord): void {
    this.done++;
    this.clear();
    this.out.write(`${this.describe(r)}\n`);
  }

  /** Prints a message above the status line. */
  note(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  /** Removes the status line. */
  clear(): void {
    if (this.tty) this.out.write('\r\x1b[2K');
  }

  private eta(): string {
    const elapsed = (Date.now() - this.started) / 1000;
    const left = this.done > 0 ? (elapsed / this.done) * (this.total - this.done) : this.estimateS - elapsed;
    const s = Math.max(0, Math.round(left));
    return `ETA ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  }

  private draw(line: string, force: boolean): void {
    if (!this.tty) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const cols = this.out.columns || 120;
    this.out.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
  }

  private describe(r: RunRecord): string {
    const head = `${String(this.done).padStart(3)}/${this.total} r${r.round} ${r.workload.padEnd(20)} ${r.target.padEnd(13)}`;
    if (r.skipped) return `${head} n/a: ${r.skipped}`;
    if (r.error) return `${head} FAILED: ${r.error.split('\n')[0]}`;
    const parts: string[] = [];
    if (r.latency) parts.push(`p50 ${fmtNum(r.latency.p50)} µs p99 ${fmtNum(r.latency.p99)} µs`);
    else parts.push(`${fmtRate(r.rate)} msgs/s`);
    if (r.lost !== null) parts.push(`lost ${r.lost}`);
    if (r.disconnects > 0) parts.push(`disc ${r.disconnects}`);
    if (r.serverUsPerMsg !== null) parts.push(`srv ${fmtNum(r.serverUsPerMsg)} µs/msg`);
    if (r.cpu?.server != null) parts.push(`srv cpu ${Math.round(r.cpu.server)}%`);
    if (r.errors > 0) parts.push(`errors ${r.errors} (${r.firstError ?? ''})`);
    return `${head} ${parts.join(' · ')}`;
  }
}
