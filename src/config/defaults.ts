/**
 * Defaults per way of running: `herald serve` uses `DEFAULT_OPTIONS`; as a drop-in for the
 * `nats-server` binary the defaults follow nats-server's where a test harness can notice.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_OPTIONS, type ServerOptions } from './options.js';

/** How herald was started: as itself, or under the name `nats-server` (test harnesses). */
export type Invocation = 'herald' | 'nats-server';

/** Random bytes in a fresh data directory's name; 6 bytes make a collision between runs negligible. */
const FRESH_DIR_RANDOM_BYTES = 6;

/**
 * A new, not yet created, directory path under `os.tmpdir()` for a nats-server-mode run with no
 * `store_dir`: every run gets its own, so harness runs never see each other's streams. The store
 * creates it when JetStream first needs it.
 */
export function freshDataDir(): string {
  return join(tmpdir(), `herald-nats-server-${process.pid}-${randomBytes(FRESH_DIR_RANDOM_BYTES).toString('hex')}`);
}

/** True when `dir` is one of this process's `freshDataDir()` paths (a config reload re-reads the
 * defaults and gets a new one: that is not a store_dir change). */
export function isFreshDataDir(dir: string): boolean {
  return dir.startsWith(join(tmpdir(), `herald-nats-server-${process.pid}-`));
}

/**
 * The options before any config file or flag is applied. Guarantees a new object each call
 * (callers may mutate it). For `nats-server`: JetStream off (on with `-js` or a `jetstream`
 * block), the Redis door off, monitoring off (on with `-m`/`http`/`http_port`), data in a fresh temporary directory.
 * Both keep host 127.0.0.1 (nats-server binds 0.0.0.0): herald never listens on every
 * interface unless told to.
 */
export function defaultOptions(invokedAs: Invocation): ServerOptions {
  const o: ServerOptions = { ...DEFAULT_OPTIONS, sync: { ...DEFAULT_OPTIONS.sync } };
  if (invokedAs === 'nats-server') {
    o.jetstream = false;
    o.httpPort = null;
    o.redisPort = null; // a nats-server stand-in opens no Redis port
    o.dataDir = freshDataDir();
  }
  return o;
}
