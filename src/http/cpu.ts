/**
 * Process CPU as nats-server's /varz `cpu` reports it (server/pse/pse_linux.go): the percentage of
 * one core the process used over the last sampling window (so 250 means two and a half cores),
 * with one decimal. nats-server samples every second on a timer; herald samples when asked, so an
 * idle server runs no timer: a read at least CPU_WINDOW_MS after the last sample closes a window.
 */

/** nats-server's sampling period (pse_linux.go, periodic: time.AfterFunc(1*time.Second, …)). */
export const CPU_WINDOW_MS = 1000;

/**
 * Guarantees: the value is never negative, and covers at most the last two windows of activity
 * (before the first full window: the average since the process started). Costs one
 * `process.cpuUsage()` call (a getrusage) per read.
 */
export class CpuSampler {
  private lastAt = performance.now();
  private lastCpuUs = cpuMicros();
  private pct: number;

  constructor() {
    // Until a window closes, report the average over the process's life, as nats-server's first
    // sample (taken at init) does.
    const lifeUs = performance.now() * 1000;
    this.pct = lifeUs > 0 ? round1((this.lastCpuUs / lifeUs) * 100) : 0;
  }

  /** CPU percentage of one core over the last window. */
  percent(): number {
    const now = performance.now();
    if (now - this.lastAt >= CPU_WINDOW_MS) {
      const cpu = cpuMicros();
      this.pct = round1(Math.max(0, ((cpu - this.lastCpuUs) / ((now - this.lastAt) * 1000)) * 100));
      this.lastAt = now;
      this.lastCpuUs = cpu;
    }
    return this.pct;
  }
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
