/**
 * Starting and stopping the servers compare mode measures: herald, `nats-server -js` and
 * `redis-server` (AOF everysec), each on a random loopback port with a temporary data directory.
 * Every process started here is stopped by pid (SIGTERM, then SIGKILL) and its directory removed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RespClient, respText } from './lib/resp-wire.js';
import { connectNats } from './lib/nats-wire.js';

/** How long a server may take to accept connections after spawn, ms. */
const START_TIMEOUT_MS = 20_000;
/** Once herald's NATS door is up, how long its Redis door gets to answer PING, ms. */
const DOOR_PROBE_MS = 2_000;
/** How long a server gets to exit after SIGTERM before SIGKILL, ms. */
const STOP_GRACE_MS = 5_000;
/** Poll interval while waiting for a port, ms. */
const POLL_MS = 50;
/** Where Debian and local installs put server binaries, besides $PATH. */
const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin', '/sbin'];

/** The command that installs the peers on Debian/Ubuntu, quoted in error messages. */
export const APT_HINT = 'sudo apt-get update && sudo apt-get install -y nats-server redis-server';

/** A server the bench measures: started by us (pid known) or given by URL. */
export interface Target {
  /** Column name in the report: herald, nats-server, redis-server, or the URL's host:port. */
  name: string;
  protocol: 'nats' | 'redis';
  url: string;
  /** nats-server-style monitoring base URL (for /varz), if known. */
  monitorUrl: string | null;
  pid: number | null;
  version: string;
  /** Durability of stream writes, in words, for the report rows. */
  durability: string;
  /** True when compare mode started it (so it is ours to stop). */
  managed: boolean;
}

/** A server process started by this module. */
export interface ManagedServer {
  targets: Target[];
  proc: ChildProcess;
  dir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** Finds an executable by name on $PATH or in the usual system directories. */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter), ...EXTRA_BIN_DIRS];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** A free TCP port on 127.0.0.1 (bound then released; the race with other processes is tiny). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** First line of a command's output, or null when it cannot run. */
function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return null;
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? null;
}

/** `nats-server --version` / `redis-server --version` text, or null. */
export function serverVersion(bin: string): string | null {
  return firstLine(bin, ['--version']);
}

/** The repository root (this file is at <root>/<dist>/bench/servers.js once compiled). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'src'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

/** What `herald serve --help` says about herald's readiness here. */
export interface HeraldProbe {
  available: boolean;
  reason: string;
  /** `serve --help` mentions a Redis door flag. */
  redisFlag: boolean;
  bin: string;
}

/** herald's stream durability in words, for a `--sync` value. */
export function heraldDurability(sync: string): string {
  if (sync === 'always') return 'sync: always (fdatasync before the ack, group commit)';
  if (sync === 'never') return 'sync: never (written at once, the OS syncs when it likes)';
  return `sync: ${sync} (written at once, fdatasync every ${sync})`;
}

/** Checks that `node bin/herald.js serve --help` works (the server is built and wired). */
export function probeHerald(): HeraldProbe {
  const bin = path.join(repoRoot(), 'bin', 'herald.js');
  if (!existsSync(bin)) return { available: false, reason: `${bin} does not exist yet`, redisFlag: false, bin };
  const r = spawnSync(process.execPath, [bin, 'serve', '--help'], { encoding: 'utf8', timeout: 15_000 });
  if (r.error || r.status !== 0) {
    const why = (r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-1)[0] ?? '';
    return { available: false, reason: `\`herald serve --help\` failed (${why || `exit ${r.status}`})`, redisFlag: false, bin };
  }
  return { available: true, reason: 'ok', redisFlag: /--redis-port\b/.test(r.stdout), bin };
}

/** Waits until a NATS server answers the handshake; returns its INFO. */
async function waitNats(url: string, proc: ChildProcess, logFile: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) break;
    try {
      const raw = await connectNats(url, 'herald-bench-probe', 2000);
      raw.socket.destroy();
      return raw.info;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  throw new Error(`server at ${url} did not start (${last}); log tail:\n${tail(logFile)}`);
}

/** Waits until a Redis server answers PING (at most `timeoutMs`). */
async function waitRedis(url: string, proc: ChildProcess, logFile: string, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) break;
    try {
      const c = await RespClient.connect(url, 2000);
      const v = await c.command(['PING'], 2000);
      c.close();
      if (respText(v) === 'PONG') return;
      last = String(respText(v));
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`server at ${url} did not start (${last}); log tail:\n${tail(logFile)}`);
}

/** The last lines of a log file, for error messages. */
function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-8).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Stops a process by pid: SIGTERM, wait, SIGKILL. Resolves when it has exited. */
export async function stopPid(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    process.kill(proc.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_GRACE_MS).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
  }
}

/** Every server started and not yet stopped, with its temp dir, so an abort can still clean up. */
const live = new Map<ChildProcess, string>();

/** SIGKILLs every server still running and removes its temp dir (synchronous: for exit handlers). */
export function killAllServersSync(): void {
  for (const [p, dir] of live) {
    if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  live.clear();
}

function launch(bin: string, args: string[], name: string, dir: string, cwd?: string): { proc: ChildProcess; logFile: string } {
  const logFile = path.join(dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const proc = spawn(bin, args, { stdio: ['ignore', fd, fd], cwd: cwd ?? dir });
  closeSync(fd);
  proc.on('error', () => undefined);
  live.set(proc, dir);
  return { proc, logFile };
}

/** Stops a launched server, forgets it and removes its temp dir. */
async function discard(proc: ChildProcess, dir: string): Promise<void> {
  await stopPid(proc);
  live.delete(proc);
  rmSync(dir, { recursive: true, force: true });
}

/** Resolves with what `ready` (a wait for a just-launched server) yields; if it fails, discards the server and rethrows. */
async function readyOrDiscard<T>(proc: ChildProcess, dir: string, ready: Promise<T>): Promise<T> {
  try {
    return await ready;
  } catch (e) {
    await discard(proc, dir);
    throw e;
  }
}

function managed(proc: ChildProcess, dir: string, logFile: string, targets: Target[]): ManagedServer {
  return {
    targets,
    proc,
    dir,
    logFile,
    async stop() {
      await discard(proc, dir);
    },
  };
}

/** Starts `nats-server -js` with a temporary store on random loopback ports. */
export async function startNatsServer(bin: string): Promise<ManagedServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-nats-'));
  const port = await freePort();
  const mport = await freePort();
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-m', String(mport), '-sd', path.join(dir, 'store'), '-n', 'bench-peer'];
  const { proc, logFile } = launch(bin, args, 'nats-server', dir);
  const url = `nats://127.0.0.1:${port}`;
  await readyOrDiscard(proc, dir, waitNats(url, proc, logFile));
  const target: Target = {
    name: 'nats-server',
    protocol: 'nats',
    url,
    monitorUrl: `http://127.0.0.1:${mport}`,
    pid: proc.pid ?? null,
    version: serverVersion(bin) ?? 'unknown',
    durability: 'file store, default sync (writes via OS buffers, fsync every 2 min)',
    managed: true,
  };
  return managed(proc, dir, logFile, [target]);
}

/** Starts `redis-server` with AOF everysec (other settings at their defaults) in a temp dir. */
export async function startRedisServer(bin: string): Promise<ManagedServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-redis-'));
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--daemonize', 'no'];
  const { proc, logFile } = launch(bin, args, 'redis-server', dir);
  const url = `redis://127.0.0.1:${port}`;
  await readyOrDiscard(proc, dir, waitRedis(url, proc, logFile));
  const target: Target = {
    name: 'redis-server',
    protocol: 'redis',
    url,
    monitorUrl: null,
    pid: proc.pid ?? null,
    version: serverVersion(bin) ?? 'unknown',
    durability: 'AOF appendfsync everysec (fsync once a second, in the background)',
    managed: true,
  };
  return managed(proc, dir, logFile, [target]);
}

/** Starts herald (`serve`, durable by default) on random loopback ports with a temp data dir, optionally under `--cpu-prof`. */
export async function startHerald(probe: HeraldProbe, cpuProfDir: string | null = null, sync: string | null = null): Promise<ManagedServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-herald-'));
  const port = await freePort();
  const mport = await freePort();
  // With a profile dir, V8 writes a .cpuprofile there when herald exits (SIGTERM shuts it down cleanly).
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const args = [...prof, probe.bin, 'serve', '--host', '127.0.0.1', '--port', String(port), '--http-port', String(mport), '--data', path.join(dir, 'data'), '--log-level', 'warn'];
  if (sync !== null) args.push('--sync', sync);
  let rport: number | null = null;
  if (probe.redisFlag) {
    rport = await freePort();
    args.push('--redis-port', String(rport));
  }
  const { proc, logFile } = launch(process.execPath, args, 'herald', dir, repoRoot());
  const url = `nats://127.0.0.1:${port}`;
  const info = await readyOrDiscard(proc, dir, waitNats(url, proc, logFile));
  const commit = firstLine('git', ['-C', repoRoot(), 'rev-parse', '--short', 'HEAD']);
  // `herald version` says e.g. "herald 0.1.0 (speaks NATS 2.10.24)"; INFO's version is the NATS one.
  const named = firstLine(process.execPath, [probe.bin, 'version']) ?? `herald (INFO version ${String(info['version'] ?? '?')})`;
  const version = `${named}${commit ? `, git ${commit}` : ''}`;
  const durability = heraldDurability(sync ?? 'always');
  const targets: Target[] = [
    { name: 'herald', protocol: 'nats', url, monitorUrl: `http://127.0.0.1:${mport}`, pid: proc.pid ?? null, version, durability, managed: true },
  ];
  if (rport !== null) {
    const rurl = `redis://127.0.0.1:${rport}`;
    try {
      await waitRedis(rurl, proc, logFile, DOOR_PROBE_MS);
      targets.push({ name: 'herald', protocol: 'redis', url: rurl, monitorUrl: null, pid: proc.pid ?? null, version, durability, managed: true });
    } catch {
      /* the flag exists but the door does not answer yet: Redis rows stay n/a */
    }
  }
  return managed(proc, dir, logFile, targets);
}
