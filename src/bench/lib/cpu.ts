/**
 * CPU accounting from /proc (Linux): per-process utime+stime of every process in a run, and the
 * machine-wide busy time, so the report can say who used the CPU and whether anything outside the
 * bench was competing for it. Clock ticks are converted with CLK_TCK (getconf, 100 by default).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Linux reports CPU times in clock ticks; almost always 100 per second. */
const DEFAULT_CLK_TCK = 100;

let clkTck: number | null = null;

/** Clock ticks per second (`getconf CLK_TCK`), cached. */
export function clockTicks(): number {
  if (clkTck !== null) return clkTck;
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
    clkTck = Number.isFinite(v) && v > 0 ? v : DEFAULT_CLK_TCK;
  } catch {
    clkTck = DEFAULT_CLK_TCK;
  }
  return clkTck;
}

/** CPU seconds one process has used: its own, plus reaped children (e.g. a Redis AOF rewrite). */
export interface ProcCpu {
  own: number;
  children: number;
}

/** Reads /proc/<pid>/stat; null when the process is gone or /proc is unavailable. */
export function readProcCpu(pid: number): ProcCpu | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: fields restart after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime 15, cutime 16, cstime 17.
  const tck = clockTicks();
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const cutime = Number(rest[13]);
  const cstime = Number(rest[14]);
  if (![utime, stime, cutime, cstime].every(Number.isFinite)) return null;
  return { own: (utime + stime) / tck, children: (cutime + cstime) / tck };
}

/** Machine-wide busy and total CPU seconds summed over all cores, from /proc/stat. */
export interface MachineCpu {
  busy: number;
  total: number;
}

/** Reads the aggregate "cpu" line of /proc/stat; null when unavailable. */
export function readMachineCpu(): MachineCpu | null {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || !f.every(Number.isFinite)) return null;
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const tck = clockTicks();
  return { busy: (total - idle) / tck, total: total / tck };
}

/** A labelled set of processes to sample together. */
export interface CpuTarget {
  label: string;
  pid: number;
}

/** One sample of all targets and the machine, taken at `at` (ms, monotonic clock). */
export interface CpuSample {
  at: number;
  procs: Map<string, ProcCpu | null>;
  machine: MachineCpu | null;
}

/** Monotonic milliseconds, comparable across processes on one machine (CLOCK_MONOTONIC). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Samples every target's CPU and the machine's at once. */
export function sampleCpu(targets: readonly CpuTarget[]): CpuSample {
  const procs = new Map<string, ProcCpu | null>();
  for (const t of targets) procs.set(t.label, readProcCpu(t.pid));
  return { at: nowMs(), procs, machine: readMachineCpu() };
}

/** CPU use between two samples: percent of one core per label, plus the machine and "other". */
export interface CpuUse {
  /** Wall-clock seconds between the samples. */
  seconds: number;
  /** Percent of one core (100 = one core busy) per process label; children included. */
  percent: Record<string, number>;
  /** CPU seconds per label, children included. */
  cpuSeconds: Record<string, number>;
  /** Whole-machine busy percent (100 per busy core). */
  machine: number | null;
  /** Machine busy minus our processes: interference from outside the bench, percent of a core. */
  other: number | null;
}

/** Differences two samples; a process that vanished in between counts as 0. */
export function cpuBetween(a: CpuSample, b: CpuSample): CpuUse {
  const seconds = Math.max(1e-9, (b.at - a.at) / 1000);
  const percent: Record<string, number> = {};
  const cpuSeconds: Record<string, number> = {};
  let ours = 0;
  for (const [label, pa] of a.procs) {
    const pb = b.procs.get(label);
    if (!pa || !pb) {
      percent[label] = 0;
      cpuSeconds[label] = 0;
      continue;
    }
    const s = Math.max(0, pb.own - pa.own) + Math.max(0, pb.children - pa.children);
    cpuSeconds[label] = s;
    percent[label] = (100 * s) / seconds;
    ours += s;
  }
  let machine: number | null = null;
  let other: number | null = null;
  if (a.machine && b.machine) {
    const busy = b.machine.busy - a.machine.busy;
    machine = (100 * busy) / seconds;
    other = Math.max(0, (100 * (busy - ours)) / seconds);
  }
  return { seconds, percent, cpuSeconds, machine, other };
}

/** True for a loopback host, where a server's pid can be found from its listening port. */
export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * Finds the pid listening on a loopback TCP port by matching the socket inode of /proc/net/tcp
 * against /proc/<pid>/fd links (only processes of this user are readable). Null if not found.
 */
export function findListenerPid(port: number): number | null {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = f[1] ?? '';
      const state = f[3];
      if (state !== '0A') continue; // 0A = LISTEN
      const p = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (p === port) inodes.add(f[9] ?? '');
    }
  }
  if (inodes.size === 0) return null;
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) return Number(pid);
    }
  }
  return null;
}
