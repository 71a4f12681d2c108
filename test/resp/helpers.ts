/**
 * Helpers for the Redis door's tests: start a real `redis-server` (differential tests) on a random
 * loopback port with no persistence, start herald with its Redis door on a random port, and a raw
 * RESP client that sends bytes and waits for N complete reply frames (RESP2 or RESP3) with a bound.
 */
import { after, before } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Server, silentLogger } from '../../src/index.js';
import type { AuthSettings } from '../../src/core/auth.js';

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

/** A running redis-server started by a test. */
export interface RedisServerHandle {
  readonly port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** `redis-server --port N --save '' --appendonly no [extra…]` on loopback; killed by pid on stop. */
export async function startRedisServer(extra: readonly string[] = []): Promise<RedisServerHandle> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--logfile',
      '',
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  const kill = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await canConnect(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      kill();
      throw new Error(`redis-server did not start on port ${port} within ${START_TIMEOUT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(kill, STOP_GRACE_MS);
      await exited;
      clearTimeout(t);
      process.off('exit', kill);
    },
  };
}

/** herald with NATS and Redis doors on random loopback ports, JetStream off unless asked. */
export async function startHerald(opts: { jetstream?: boolean; auth?: AuthSettings } = {}): Promise<Server> {
  return Server.start({
    port: 0,
    redisPort: 0,
    jetstream: opts.jetstream ?? false,
    logger: silentLogger(),
    ...(opts.auth === undefined ? {} : { auth: opts.auth }),
  });
}

/**
 * End of the RESP frame starting at `pos` in `b`, or -1 when it is not complete yet. Handles every
 * RESP2 and RESP3 type, aggregates nested.
 */
export function frameEnd(b: Buffer, pos: number): number {
  if (pos >= b.length) return -1;
  const cr = b.indexOf('\r\n', pos);
  if (cr < 0) return -1;
  const type = String.fromCharCode(b[pos]);
  const head = b.toString('latin1', pos + 1, cr);
  let next = cr + 2;
  switch (type) {
    case '$':
    case '!':
    case '=': {
      const n = Number(head);
      if (n < 0) return next;
      return b.length >= next + n + 2 ? next + n + 2 : -1;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      let n = Number(head);
      if (n < 0) return next;
      if (type === '%' || type === '|') n *= 2;
      for (let i = 0; i < n; i++) {
        next = frameEnd(b, next);
        if (next < 0) return -1;
      }
      return next;
    }
    default:
      return next;
  }
}

/** A raw RESP connection: `send` bytes, `read(n)` the next n frames as raw bytes. */
export class RawResp {
  /** Received bytes not yet consumed, as chunks (joined only when frames are looked for). */
  private chunks: Buffer[] = [];
  private received = 0;
  closed = false;
  private wake: (() => void) | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.received += d.length;
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawResp> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => resolve(new RawResp(s)));
      s.once('error', reject);
    });
  }

  send(data: string | Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  private get buf(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }

  private set buf(b: Buffer) {
    this.chunks = [b];
    this.received = b.length;
  }

  /** What arrived so far, shortened for an error message. */
  private get shown(): string {
    const s = JSON.stringify(this.buf.toString('latin1'));
    return s.length > 300 ? `${s.slice(0, 300)}… (${this.received} bytes)` : s;
  }

  /** Resolves when bytes arrive, the connection closes, or after `ms`. */
  private waitData(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        r();
      };
    });
  }

  /** Waits (bounded) until `n` bytes arrived, without looking at frames; returns them. */
  async readBytes(n: number, ms = 5000): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (this.received < n) {
      if (this.closed) throw new Error(`connection closed after ${this.received}/${n} bytes`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} bytes; got ${this.received}`);
      await this.waitData(left);
    }
    const all = this.buf;
    this.buf = all.subarray(n);
    return all.subarray(0, n);
  }

  /** The next `n` frames' bytes (joined); throws after `ms` with what arrived. */
  async read(n: number, ms = 5000): Promise<Buffer> {
    const deadline = Date.now() + ms;
    for (;;) {
      let end = 0;
      let k = 0;
      while (k < n) {
        const e = frameEnd(this.buf, end);
        if (e < 0) break;
        end = e;
        k++;
      }
      if (k === n) {
        const out = this.buf.subarray(0, end);
        this.buf = this.buf.subarray(end);
        return out;
      }
      if (this.closed) throw new Error(`connection closed after ${k}/${n} frames: ${this.shown}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} frames; got: ${this.shown}`);
      await this.waitData(left);
    }
  }

  /** Waits (bounded) until the server closes; returns the bytes that arrived first. */
  async untilClosed(ms = 5000): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`server did not close; got: ${this.shown}`);
      await this.waitData(Math.min(left, 50));
    }
    return this.buf;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A multibulk request for `args`. */
export function cmd(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Bound on every wait in the Redis client tests. */
export const WAIT_MS = 5000;

/** Resolves with the first value `arm` produces, or fails after WAIT_MS saying what was awaited. */
export function within<T>(what: string, arm: (done: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
    arm((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

/** Starts herald and a redis-server before the enclosing suite's tests and stops both after. */
export function withBothServers(): { herald: () => Server; redis: () => RedisServerHandle } {
  let herald: Server;
  let redis: RedisServerHandle;
  before(async () => {
    [herald, redis] = await Promise.all([startHerald(), startRedisServer()]);
  });
  after(async () => {
    await Promise.all([herald?.close(), redis?.stop()]);
  });
  return { herald: () => herald, redis: () => redis };
}
