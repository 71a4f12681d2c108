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
  /** The binary that was started (a checked peer, or herald's bin/herald.js); null when given by URL. */
  path: string | null;
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

/** The peers compare mode and the differential tests run; anything else is looked up as found. */
export type PeerName = 'nats-server' | 'redis-server';

/** A peer binary whose identity was checked: its path and what `--version` says. */
export interface PeerBinary {
  path: string;
  /** First line of `--version`, e.g. "nats-server: v2.9.10". */
  version: string;
}

/** What the real nats-server prints for `--version` (nats-server main.go, `-v`): "nats-server: v2.9.10". */
const NATS_VERSION_LINE = /^nats-server: v(\d+\.\d+\.\d+\S*)$/;
/** What the real redis-server prints for `--version` (Redis server.c, version()): "Redis server v=7.0.15 sha=…". */
const REDIS_VERSION_LINE = /^Redis server v=(\d+\.\d+\.\d+\S*) /;
/** herald names itself in every identity string it gives (shim `--version`, INFO `go`, `herald version`). */
const HERALD_MARK = /herald/i;

/**
 * Why `versionText` (a binary's `--version` output) is not the real `name`, or null when it is.
 * herald's drop-in shim answers "nats-server: v2.10.24 (herald 0.1.0)": rejected by the mark.
 */
export function versionProblem(name: PeerName, versionText: string | null): string | null {
  if (versionText === null) return '`--version` did not run';
  const line = versionText.trim().split('\n')[0] ?? '';
  if (HERALD_MARK.test(versionText)) return `\`--version\` says "${line}": that is herald, not ${name}`;
  const re = name === 'nats-server' ? NATS_VERSION_LINE : REDIS_VERSION_LINE;
  if (!re.test(line)) return `\`--version\` says "${line}", not what ${name} prints`;
  return null;
}

/** The semver a checked `--version` line carries ("2.9.10"), or null. */
export function versionNumber(name: PeerName, versionText: string): string | null {
  const re = name === 'nats-server' ? NATS_VERSION_LINE : REDIS_VERSION_LINE;
  return re.exec(versionText.trim().split('\n')[0] ?? '')?.[1] ?? null;
}

/**
 * Why a server's INFO greeting is not nats-server's, or null. nats-server fills `go` with
 * runtime.Version() ("go1.19.8"; server.go, New) and `version` with its own VERSION; herald's INFO
 * says `go: "herald …"`. `expectVersion` (from `--version`) must match when given.
 */
export function natsInfoProblem(info: Record<string, unknown>, expectVersion: string | null): string | null {
  const go = String(info['go'] ?? '');
  const version = String(info['version'] ?? '');
  const name = String(info['server_name'] ?? '');
  if (HERALD_MARK.test(go) || HERALD_MARK.test(name))
    return `INFO says go="${go}" server_name="${name}": that is herald, not nats-server`;
  if (!/^go\d/.test(go)) return `INFO go="${go}" is not a Go runtime version`;
  if (!/^\d+\.\d+\.\d+/.test(version)) return `INFO version="${version}" is not a nats-server version`;
  if (expectVersion !== null && version !== expectVersion)
    return `INFO version ${version} differs from --version ${expectVersion}`;
  return null;
}

/** Why an `INFO server` reply is not redis-server's, or null (herald's Redis door must not pass). */
export function redisInfoProblem(infoServer: string, expectVersion: string | null): string | null {
  if (HERALD_MARK.test(infoServer)) return 'INFO server mentions herald: that is herald, not redis-server';
  const v = /^redis_version:(\S+)/m.exec(infoServer)?.[1];
  if (v === undefined) return 'INFO server has no redis_version';
  if (expectVersion !== null && v !== expectVersion) return `INFO redis_version ${v} differs from --version ${expectVersion}`;
  return null;
}

/**
 * Finds a peer by name, checking that it is the peer: the usual system directories come before
 * $PATH (the README puts herald's shim `bin/shim/nats-server` first on PATH), and a candidate whose
 * `--version` is herald's, or not the peer's, is skipped. Null when no candidate exists; throws,
 * naming every rejected candidate, when candidates exist and none is the peer. NATS_SERVER_BIN /
 * REDIS_SERVER_BIN, when set, is the only candidate (and is checked like the others).
 */
export function findPeer(name: PeerName): PeerBinary | null {
  const env = process.env[name === 'nats-server' ? 'NATS_SERVER_BIN' : 'REDIS_SERVER_BIN'];
  const candidates = env
    ? [env]
    : [...EXTRA_BIN_DIRS, ...(process.env['PATH'] ?? '').split(path.delimiter)]
        .filter((d) => d !== '')
        .map((d) => path.join(d, name));
  const rejected: string[] = [];
  const seen = new Set<string>();
  for (const p of candidates) {
    if (seen.has(p) || !existsSync(p)) continue;
    seen.add(p);
    const version = serverVersion(p);
    const why = versionProblem(name, version);
    if (why === null) return { path: p, version: version! };
    rejected.push(`${p}: ${why}`);
  }
  if (rejected.length === 0) return null;
  throw new Error(`no real ${name} found; rejected:\n  ${rejected.join('\n  ')}`);
}

/** The path of a checked peer (see findPeer), or null when none is installed. */
export function findBinary(name: PeerName): string | null {
  return findPeer(name)?.path ?? null;
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

/**
 * The commit the bench runs on ("abc1234", "+dirty" when the work tree has uncommitted changes),
 * or null outside a git checkout: a report says which code produced it.
 */
export function gitCommit(): string | null {
  const head = firstLine('git', ['-C', repoRoot(), 'rev-parse', '--short', 'HEAD']);
  if (head === null) return null;
  const r = spawnSync('git', ['-C', repoRoot(), 'status', '--porcelain', '--untracked-files=no'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return r.status === 0 && r.stdout.trim() !== '' ? `${head}+dirty` : head;
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
  // Until the Redis door lands, --help lists --redis-port as refused (herald would not start with it).
  const redisFlag = /--redis-port\b/.test(r.stdout) && !/--redis-port.*refused/.test(r.stdout);
  return { available: true, reason: 'ok', redisFlag, bin };
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

/** Checks `bin` is the real peer (see findPeer); returns its `--version` line, or throws. */
function checkedVersion(name: PeerName, bin: string): string {
  const version = serverVersion(bin);
  const why = versionProblem(name, version);
  if (why !== null) throw new Error(`${bin} is not ${name}: ${why}`);
  return version!;
}

/** Starts `nats-server -js` with a temporary store on random loopback ports; throws if `bin` is not nats-server. */
export async function startNatsServer(bin: string): Promise<ManagedServer> {
  const version = checkedVersion('nats-server', bin);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-nats-'));
  const port = await freePort();
  const mport = await freePort();
  const args = [
    '-js',
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-m',
    String(mport),
    '-sd',
    path.join(dir, 'store'),
    '-n',
    'bench-peer',
  ];
  const { proc, logFile } = launch(bin, args, 'nats-server', dir);
  const url = `nats://127.0.0.1:${port}`;
  const info = await readyOrDiscard(proc, dir, waitNats(url, proc, logFile));
  const why = natsInfoProblem(info, versionNumber('nats-server', version));
  if (why !== null) {
    await discard(proc, dir);
    throw new Error(`${bin} is not nats-server: ${why}`);
  }
  const target: Target = {
    name: 'nats-server',
    protocol: 'nats',
    url,
    monitorUrl: `http://127.0.0.1:${mport}`,
    pid: proc.pid ?? null,
    version: `${version} (INFO ${String(info['go'])})`,
    path: bin,
    durability: 'file store, default sync (writes via OS buffers, fsync every 2 min)',
    managed: true,
  };
  return managed(proc, dir, logFile, [target]);
}

/** `INFO server` of the Redis server at `url`, as text. */
export async function redisInfoServer(url: string): Promise<string> {
  const c = await RespClient.connect(url, START_TIMEOUT_MS);
  try {
    return respText(await c.command(['INFO', 'server'], START_TIMEOUT_MS)) ?? '';
  } finally {
    c.close();
  }
}

/** Starts `redis-server` with AOF everysec (other settings at their defaults) in a temp dir; throws if `bin` is not redis-server. */
export async function startRedisServer(bin: string): Promise<ManagedServer> {
  const version = checkedVersion('redis-server', bin);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-redis-'));
  const port = await freePort();
  const args = [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--daemonize',
    'no',
  ];
  const { proc, logFile } = launch(bin, args, 'redis-server', dir);
  const url = `redis://127.0.0.1:${port}`;
  await readyOrDiscard(proc, dir, waitRedis(url, proc, logFile));
  const why = redisInfoProblem(await readyOrDiscard(proc, dir, redisInfoServer(url)), versionNumber('redis-server', version));
  if (why !== null) {
    await discard(proc, dir);
    throw new Error(`${bin} is not redis-server: ${why}`);
  }
  const target: Target = {
    name: 'redis-server',
    protocol: 'redis',
    url,
    monitorUrl: null,
    pid: proc.pid ?? null,
    version,
    path: bin,
    durability: 'AOF appendfsync everysec (fsync once a second, in the background)',
    managed: true,
  };
  return managed(proc, dir, logFile, [target]);
}

/** Starts herald (`serve`, durable by default) on random loopback ports with a temp data dir, optionally under `--cpu-prof`. */
export async function startHerald(
  probe: HeraldProbe,
  cpuProfDir: string | null = null,
  sync: string | null = null,
): Promise<ManagedServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-herald-'));
  const port = await freePort();
  const mport = await freePort();
  // With a profile dir, V8 writes a .cpuprofile there when herald exits (SIGTERM shuts it down cleanly).
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const args = [
    ...prof,
    probe.bin,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(mport),
    '--data',
    path.join(dir, 'data'),
    '--log-level',
    'warn',
  ];
  if (sync !== null) args.push('--sync', sync);
  let rport: number | null = null;
  if (probe.redisFlag) {
    rport = await freePort();
    args.push('--redis-port', String(rport));
  }
  const { proc, logFile } = launch(process.execPath, args, 'herald', dir, repoRoot());
  const url = `nats://127.0.0.1:${port}`;
  const info = await readyOrDiscard(proc, dir, waitNats(url, proc, logFile));
  const commit = gitCommit();
  // `herald version` says e.g. "herald 0.1.0 (speaks NATS 2.10.24)"; INFO's version is the NATS one.
  const named = firstLine(process.execPath, [probe.bin, 'version']) ?? `herald (INFO version ${String(info['version'] ?? '?')})`;
  const version = `${named}${commit ? `, git ${commit}` : ''}`;
  const durability = heraldDurability(sync ?? 'always');
  const targets: Target[] = [
    {
      name: 'herald',
      protocol: 'nats',
      url,
      monitorUrl: `http://127.0.0.1:${mport}`,
      pid: proc.pid ?? null,
      version,
      path: probe.bin,
      durability,
      managed: true,
    },
  ];
  if (rport !== null) {
    const rurl = `redis://127.0.0.1:${rport}`;
    try {
      await waitRedis(rurl, proc, logFile, DOOR_PROBE_MS);
      targets.push({
        name: 'herald',
        protocol: 'redis',
        url: rurl,
        monitorUrl: null,
        pid: proc.pid ?? null,
        version,
        path: probe.bin,
        durability,
        managed: true,
      });
    } catch {
      /* the flag exists but the door does not answer yet: Redis rows stay n/a */
    }
  }
  return managed(proc, dir, logFile, targets);
}
