/**
 * An exclusive lock on a directory that dies with its holder: one process at a time may own a data
 * or store directory. Node has no flock(2), and a pid file outlives a SIGKILL (and a zombie's pid
 * still answers kill(pid, 0)), so the lock is a listening Unix socket in Linux's abstract namespace
 * (a name starting with NUL, see unix(7)) derived from the directory's real path. The kernel frees
 * that name the instant the process's descriptors close — on exit, on SIGKILL, zombie or not — and
 * it leaves nothing on disk. A process that cannot bind asks the holder, over that same socket, for
 * its pid, so the error names who holds the directory.
 *
 * Limit: abstract names are per network namespace, so two containers with their own network
 * namespaces that mount the same volume do not see each other's lock.
 *
 * Elsewhere than Linux there is no abstract namespace: the socket is a file `<dir>/.herald.lock`
 * instead; a stale one (bind fails, connect is refused) is removed and the bind retried.
 */
import net from 'node:net';
import { createHash } from 'node:crypto';
import { realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How long to wait for a held lock by default: a predecessor shutting down cleanly (flushing and
 * syncing its stores) releases it within this; a SIGKILLed one has released it already.
 */
export const DIR_LOCK_WAIT_MS = 3000;
/** Gap between attempts while waiting. */
const RETRY_MS = 50;
/** How long to wait for a holder to say its pid before naming it "unknown". */
const ASK_TIMEOUT_MS = 500;
/** Abstract socket names are bounded (108 bytes): the path is hashed into the name. */
const NAME_PREFIX = '\0herald-dir-lock/';

/** The directory is held by another process (or another lock in this one). */
export class DirLockError extends Error {
  constructor(
    readonly dir: string,
    /** The holder's pid, or null when it did not answer. */
    readonly holderPid: number | null,
    what = 'directory',
  ) {
    super(
      `${what} ${dir} is in use by ${holderPid === null ? 'another process' : `process ${holderPid}`}` +
        (holderPid === process.pid ? ' (this process)' : '') +
        `; stop that process or choose another ${what}`,
    );
    this.name = 'DirLockError';
  }
}

/** A held directory lock. Guarantees: until `release()` (or process death), no other `lockDirectory` on the same real path succeeds. Costs one file descriptor. */
export interface DirLock {
  readonly dir: string;
  release(): Promise<void>;
}

/** Options of `lockDirectory`. */
export interface DirLockOptions {
  /** How long to wait for a current holder to let go (default DIR_LOCK_WAIT_MS; 0 = try once). */
  waitMs?: number;
  /** What the directory is, for the error message ('data directory', 'store directory'…). */
  what?: string;
}

/**
 * Locks `dir` (which must exist), waiting up to `waitMs` for a current holder to go away. Rejects
 * with DirLockError naming the directory and the holder's pid when the lock cannot be had in time.
 */
export async function lockDirectory(dir: string, opts: DirLockOptions = {}): Promise<DirLock> {
  const waitMs = opts.waitMs ?? DIR_LOCK_WAIT_MS;
  const real = realpathSync(dir);
  const abstract = process.platform === 'linux';
  const name = abstract ? NAME_PREFIX + createHash('sha256').update(real).digest('hex') : join(real, '.herald.lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const server = await tryListen(name);
    if (server !== null) {
      server.unref();
      let released = false;
      return {
        dir: real,
        release: () => {
          if (released) return Promise.resolve();
          released = true;
          return new Promise((resolve) => server.close(() => resolve()));
        },
      };
    }
    const holder = await askHolder(name);
    if (holder === 'stale' && !abstract) {
      rmSync(name, { force: true });
      continue;
    }
    if (Date.now() >= deadline) throw new DirLockError(real, typeof holder === 'number' ? holder : null, opts.what);
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

/** Binds `name`; null when it is taken. */
function tryListen(name: string): Promise<net.Server | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => {
      // Whoever connects is a process that wants the directory: tell it who holds it.
      sock.on('error', () => undefined);
      sock.end(`${process.pid}\n`);
    });
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(null);
      else reject(err);
    });
    server.listen({ path: name, exclusive: true }, () => resolve(server));
  });
}

/** The holder's pid; 'stale' when nobody listens on the name; null when it did not answer in time. */
function askHolder(name: string): Promise<number | 'stale' | null> {
  return new Promise((resolve) => {
    let data = '';
    let done = false;
    const finish = (v: number | 'stale' | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const sock = net.connect({ path: name });
    const timer = setTimeout(() => finish(null), ASK_TIMEOUT_MS);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (data += d));
    sock.on('end', () => {
      const pid = Number(data.trim());
      finish(Number.isInteger(pid) && pid > 0 ? pid : null);
    });
    sock.on('error', (err: NodeJS.ErrnoException) =>
      finish(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'stale' : null),
    );
  });
}
