/**
 * The machine header of a report: cores, CPU model, memory, kernel, OS, Node, and the load when
 * the run began (a busy machine makes every number smaller).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Where and on what a report's numbers were taken. */
export interface MachineInfo {
  hostname: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  /** 1-minute load average when the run started. */
  loadAtStart: number;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) return m[1].trim();
  } catch {
    /* not Linux */
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) return m[1];
  } catch {
    /* not Linux */
  }
  return `${os.type()} ${os.release()}`;
}

/** Describes this machine now. */
export function machineInfo(): MachineInfo {
  return {
    hostname: os.hostname(),
    cores: os.cpus().length,
    cpuModel: cpuModel(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    os: osName(),
    node: process.version,
    loadAtStart: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}
