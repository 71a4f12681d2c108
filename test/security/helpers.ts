/**
 * Shared by the security tests: a conf file started on herald (in-process, from the same conf
 * text through loadConfigFile) and on the real nats-server (`-c file`), both on random loopback
 * ports; and a raw session that can sign the INFO nonce with an nkey before sending CONNECT.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from '../../src/index.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { loadConfigFile } from '../../src/config/load.js';
import type { ServerOptions } from '../../src/config/options.js';
import { startNatsServer } from '../helpers/nats-server.js';
import { RawConnection, splitGreeting } from '../helpers/raw.js';

/** bcryptjs ships no types: the one call the tests make. */
const bcrypt = createRequire(import.meta.url)('bcryptjs') as { hashSync(pw: string, cost: number): string };

/** A bcrypt hash of `pw` (`$2a$`, as `nats server passwd` prints); cost 4 keeps tests fast. */
export function bcryptHash(pw: string, cost = 4): string {
  return bcrypt.hashSync(pw, cost);
}

/** A running server under test. */
export interface Target {
  name: 'herald' | 'nats-server';
  url: string;
  port: number;
  /** herald's server object (null for nats-server). */
  herald: Server | null;
  stop(): Promise<void>;
}

/** Writes `conf` to a fresh temporary directory; returns the file path. */
export function writeConf(conf: string): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sec-'));
  const file = join(dir, 'server.conf');
  writeFileSync(file, conf);
  return { file, dir };
}

/** A Target whose stop() also removes the conf's temporary directory. */
function target(
  name: Target['name'],
  url: string,
  port: number,
  herald: Server | null,
  stop: () => Promise<void>,
  dir: string,
): Target {
  return {
    name,
    url,
    port,
    herald,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts herald with `conf` (plus test overrides: random port, temp data, no logs); `redis`
 * turns the Redis door on at a random port, `extra` overrides further options. */
export async function startHerald(
  conf: string,
  opts: { jetstream?: boolean; monitor?: boolean; redis?: boolean; extra?: Partial<ServerOptions> } = {},
): Promise<Target> {
  const { file, dir } = writeConf(conf);
  const { options } = loadConfigFile(file, defaultOptions('herald'));
  const s = await Server.start({
    ...options,
    port: 0,
    httpPort: opts.monitor === true ? 0 : null,
    redisPort: opts.redis === true ? 0 : null,
    dataDir: join(dir, 'data'),
    jetstream: opts.jetstream === true,
    logLevel: 'silent',
    ...opts.extra,
  });
  return target('herald', s.url, s.port, s, () => s.close(), dir);
}

/** The port of herald's plain Redis door (started with `redis: true`). */
export function redisPortOf(t: Target): number {
  return Number(new URL(t.herald?.redisUrl as string).port);
}

/** Starts the real nats-server with `conf`. */
export async function startReferenceNats(conf: string, opts: { jetstream?: boolean } = {}): Promise<Target> {
  const { file, dir } = writeConf(conf);
  const n = await startNatsServer({ args: ['-c', file], jetstream: opts.jetstream });
  return target('nats-server', n.url, n.port, null, () => n.stop(), dir);
}

/** What a raw client saw: the INFO object, everything after it, and whether the server closed. */
export interface RawSeen {
  info: Record<string, unknown>;
  rest: string;
  closed: boolean;
}

/**
 * Connects, reads INFO, sends `script(info)` (one write per chunk), then waits until `done(rest)`
 * holds or the server closes (bounded by `maxMs`), then for a short quiet period.
 */
export async function rawAuth(
  port: number,
  script: (info: Record<string, unknown>) => string[],
  done: (rest: string) => boolean,
  maxMs = 5000,
): Promise<RawSeen> {
  const conn = await RawConnection.connect(port);
  try {
    if (!(await conn.waitFor((d) => d.includes(0x0a), maxMs))) throw new Error('no INFO within bound');
    const { greeting } = splitGreeting(conn.data);
    const info = JSON.parse((greeting ?? '').replace(/^INFO\s+/, '').trim()) as Record<string, unknown>;
    for (const c of script(info)) conn.write(c);
    await conn.waitFor((d) => done(splitGreeting(d).rest.toString()), maxMs);
    await conn.waitQuiet(50, 1000);
    const closed = conn.closed;
    return { info, rest: splitGreeting(conn.data).rest.toString(), closed };
  } finally {
    conn.destroy();
  }
}

/** Runs `scenario` against a server started by `start`, and stops the server whatever happens. */
export async function runOn<T>(start: Promise<Target>, scenario: (t: Target) => Promise<T>): Promise<T> {
  const t = await start;
  try {
    return await scenario(t);
  } finally {
    await t.stop();
  }
}
