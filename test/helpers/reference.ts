/**
 * Starting a reference server (nats-server, redis-server) for differential tests: a process on a
 * random free loopback port, probed until it answers, then checked to be the reference and not
 * herald (`check` sees what it answered; bench/servers.ts holds the identity rules), killed by pid
 * with its temporary directories removed on `stop()` and, as a last resort, when the test process
 * exits. An identity failure is never retried and never turned into a skip: it fails the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';

/** How long the server may take to accept its first TCP connection. */
const START_TIMEOUT_MS = 10_000;
/** Gap between readiness probes. */
const PROBE_INTERVAL_MS = 20;
/** How long `stop()` waits for SIGTERM to work before SIGKILL. */
const STOP_GRACE_MS = 3_000;
/** A free port can be taken by someone else between probing and binding: retry this often. */
const START_ATTEMPTS = 3;

/** A running reference server. */
export interface ReferenceHandle {
  readonly port: number;
  readonly pid: number;
  /** Kills the process by pid (SIGTERM, then SIGKILL) and removes its temporary directories. */
  stop(): Promise<void>;
}

/** The binary is not the reference it claims to be: fails the test, never retried. */
export class NotTheReferenceError extends Error {}

/** How to start one reference server. */
export interface ReferenceSpec<T> {
  /** Name for messages: "nats-server". */
  name: string;
  bin: string;
  /** Arguments for a given port. */
  args(port: number): string[];
  /** Temporary directories to remove on stop. */
  dirs: string[];
  /** One readiness probe: resolves with what the server said, rejects while it is not up. */
  probe(port: number): Promise<T>;
  /** Why what the server said is not the reference's, or null. */
  check(answer: T): string | null;
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the reference and resolves once it answered a probe and passed `check`. Rejects (after
 * killing it) if it exits, does not come up within START_TIMEOUT_MS, or is not the reference.
 */
export async function startReference<T>(spec: ReferenceSpec<T>): Promise<ReferenceHandle & { answer: T }> {
  let lastErr: unknown = null;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(spec);
    } catch (err) {
      if (err instanceof NotTheReferenceError) throw err;
      lastErr = err;
    }
  }
  for (const d of spec.dirs) rmSync(d, { recursive: true, force: true });
  throw lastErr;
}

async function startOnce<T>(spec: ReferenceSpec<T>): Promise<ReferenceHandle & { answer: T }> {
  installExitHook();
  const port = await freePort();
  const child = spawn(spec.bin, spec.args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 16_384) stderr += s;
  });
  let exited = false;
  const exitedP = new Promise<void>((resolve) => {
    const gone = (): void => {
      exited = true;
      live.delete(child);
      resolve();
    };
    child.once('exit', gone);
    child.once('error', gone);
  });
  const kill = async (): Promise<void> => {
    if (exited || child.pid === undefined) return;
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
  };
  const stop = async (): Promise<void> => {
    await kill();
    for (const d of spec.dirs) rmSync(d, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!exited && Date.now() < deadline) {
    let answer: T;
    try {
      answer = await spec.probe(port);
    } catch {
      await sleep(PROBE_INTERVAL_MS);
      continue;
    }
    if (exited) break;
    const why = spec.check(answer);
    if (why !== null) {
      await stop();
      throw new NotTheReferenceError(`${spec.bin} is not ${spec.name}: ${why}`);
    }
    return { port, pid: child.pid ?? -1, stop, answer };
  }
  await kill();
  throw new Error(`${spec.name} did not start on port ${port}: ${stderr.trim() || 'timed out'}`);
}
