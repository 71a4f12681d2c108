/**
 * Starts the real `redis-server` binary for the Redis differential tests: on a random free
 * loopback port, persistence off, in a temporary directory. The binary must be redis-server, not
 * herald: its `--version` and its `INFO server` are checked (bench/servers.ts findPeer,
 * redisInfoProblem) and a mismatch fails the test loudly.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { findPeer, redisInfoProblem, redisInfoServer, versionNumber } from '../../src/bench/servers.js';
import { startReference } from './reference.js';

/** A running redis-server. */
export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** `redis_version` from INFO server (checked to be redis-server's). */
  readonly version: string;
  /** Kills the process by pid (SIGTERM, then SIGKILL) and removes its temporary directory. */
  stop(): Promise<void>;
}

/** The real redis-server's path ($REDIS_SERVER_BIN, then system directories, then $PATH), or null; throws when only impostors exist. */
export function redisServerBin(): string | null {
  return findPeer('redis-server')?.path ?? null;
}

/** True when a real redis-server can be found (Redis differential tests skip with a reason otherwise). */
export function redisServerAvailable(): boolean {
  return redisServerBin() !== null;
}

/** Starts redis-server and resolves once its INFO server says it is redis-server. */
export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServerHandle> {
  const peer = findPeer('redis-server');
  if (peer === null) throw new Error('redis-server is not installed (set REDIS_SERVER_BIN or install the Debian package)');
  const dir = mkdtempSync(join(os.tmpdir(), 'herald-redis-ref-'));
  const expect = versionNumber('redis-server', peer.version);
  const h = await startReference({
    name: 'redis-server',
    bin: peer.path,
    args: (port) => [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      ...extraArgs,
    ],
    dirs: [dir],
    probe: (port) => redisInfoServer(`redis://127.0.0.1:${port}`),
    check: (info) => redisInfoProblem(info, expect),
  });
  const version = /^redis_version:(\S+)/m.exec(h.answer)?.[1] ?? '?';
  return { url: `redis://127.0.0.1:${h.port}`, port: h.port, pid: h.pid, version, stop: h.stop };
}
