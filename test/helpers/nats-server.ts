/**
 * Starts the real `nats-server` binary for differential tests (DESIGN.md "Compatibility is tested,
 * not assumed"): on a random free loopback port, optionally with JetStream in a temporary store
 * directory. The process is killed by pid and its temporary directory removed on `stop()`, and as a
 * last resort when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

/** Where Debian installs the binary; NATS_SERVER_BIN overrides, else it is looked up on PATH. */
const DEFAULT_BIN = '/usr/sbin/nats-server';
/** How long the server may take to accept its first TCP connection. */
const START_TIMEOUT_MS = 10_000;
/** Gap between readiness probes. */
const PROBE_INTERVAL_MS = 20;
/** How long `stop()` waits for SIGTERM to work before SIGKILL. */
const STOP_GRACE_MS = 3_000;
/** A free port can be taken by someone else between probing and binding: retry this often. */
const START_ATTEMPTS = 3;

/** A running nats-server. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Kills the process by pid (SIGTERM, then SIGKILL) and removes its temporary directories. */
  stop(): Promise<void>;
}

/** Options for `startNatsServer`. */
export interface NatsServerOptions {
  /** Enable JetStream (`-js`) with its store in a fresh temporary directory (`-sd`). */
  jetstream?: boolean;
  /** Extra command-line arguments. */
  args?: string[];
}

/** The nats-server binary to run: $NATS_SERVER_BIN, /usr/sbin/nats-server, or `nats-server` on PATH. */
export function natsServerBin(): string {
  const env = process.env.NATS_SERVER_BIN;
  if (env !== undefined && env !== '') return env;
  if (existsSync(DEFAULT_BIN)) return DEFAULT_BIN;
  return 'nats-server';
}

/** True when the nats-server binary can be found (differential tests skip with a reason otherwise). */
export function natsServerAvailable(): boolean {
  const bin = natsServerBin();
  if (bin.includes('/')) return existsSync(bin);
  const dirs = (process.env.PATH ?? '').split(':');
  return dirs.some((d) => d !== '' && existsSync(join(d, bin)));
}

/** Processes started here and not yet stopped, killed if the test process exits without `stop()`. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) {
      if (p.pid !== undefined) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  });
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts nats-server on 127.0.0.1 and a random free port, and resolves once it accepts TCP.
 * Rejects (after killing it) if it exits or does not come up within START_TIMEOUT_MS.
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  let lastErr: unknown = null;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

async function startOnce(opts: NatsServerOptions): Promise<NatsServerHandle> {
  installExitHook();
  const port = await freePort();
  const dirs: string[] = [];
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (opts.jetstream === true) {
    const sd = mkdtempSync(join(os.tmpdir(), 'herald-nats-js-'));
    dirs.push(sd);
    args.push('-js', '-sd', sd);
  }
  if (opts.args !== undefined) args.push(...opts.args);
  const child = spawn(natsServerBin(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 16_384) stderr += s;
  });
  let exited = false;
  const exitedP = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolve();
    });
    child.once('error', () => {
      exited = true;
      live.delete(child);
      resolve();
    });
  });
  const removeDirs = (): void => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    dirs.length = 0;
  };

  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        if (!exited && child.pid !== undefined) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }, STOP_GRACE_MS);
      await exitedP;
      clearTimeout(timer);
    }
    removeDirs();
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!exited && Date.now() < deadline) {
    if (await canConnect(port)) {
      if (exited) break;
      return { url: `nats://127.0.0.1:${port}`, port, pid: child.pid ?? -1, stop };
    }
    await sleep(PROBE_INTERVAL_MS);
  }
  await stop();
  throw new Error(`nats-server did not start on port ${port}: ${stderr.trim() || 'timed out'}`);
}
