/**
 * A raw TCP client for protocol tests: sends a script of chunks with small pauses between them (so
 * the server really reads them as separate TCP segments), and collects every byte the server sends
 * until the line goes quiet or the server closes. Knows nothing about NATS except, optionally,
 * waiting for the greeting line before sending, as a real client does.
 */
import net from 'node:net';

/** One script step: bytes to send as one write. */
export type Chunk = string | Buffer;

/** How a raw session is run. Every wait is bounded. */
export interface RawOptions {
  host?: string;
  /** Pause after each chunk, ms (default 5). Sleeping lets the kernel deliver each chunk alone. */
  pauseMs?: number;
  /** The session ends once nothing was received or sent for this long, ms (default 100). */
  quietMs?: number;
  /** Hard cap on the whole session, ms (default 5000). */
  maxMs?: number;
  /** Wait for the server's first line (INFO) before sending the script (default true). */
  waitGreeting?: boolean;
  /**
   * After the script, first wait (within `maxMs`) until this holds for the bytes received so far,
   * or the server closes; only then wait for quiet. Lets a caller that knows what to expect stay
   * correct on a loaded machine without long quiet periods.
   */
  settle?: (data: Buffer) => boolean;
}

/** What a raw session observed. */
export interface RawResult {
  /** Every byte received, in order, greeting included. */
  data: Buffer;
  /** True when the server closed the connection (FIN or reset) before we gave up waiting. */
  closed: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One raw client connection that records everything it receives. Writes after the server closed
 * are dropped (so a script never provokes a reset by writing into a closed socket).
 */
export class RawConnection {
  /** True once the server ended or reset the connection (or it failed). */
  closed = false;
  /** When bytes were last received or sent (ms since epoch). */
  lastActivity = Date.now();
  private readonly received: Buffer[] = [];
  private receivedLen = 0;
  private wake: (() => void) | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (b: Buffer) => {
      this.received.push(b);
      this.receivedLen += b.length;
      this.lastActivity = Date.now();
      this.poke();
    });
    const gone = (): void => {
      this.closed = true;
      this.poke();
    };
    socket.on('end', gone);
    socket.on('close', gone);
    socket.on('error', gone);
  }

  /** Connects to host:port; rejects if the connection is refused. */
  static connect(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new RawConnection(socket));
      });
    });
  }

  /** Every byte received so far. */
  get data(): Buffer {
    if (this.received.length > 1) {
      const all = Buffer.concat(this.received, this.receivedLen);
      this.received.length = 0;
      this.received.push(all);
    }
    return this.received.length === 0 ? Buffer.alloc(0) : this.received[0];
  }

  /** Sends one chunk as one write; dropped when the server has closed. */
  write(chunk: Chunk): void {
    if (this.closed) return;
    this.socket.write(chunk);
    this.lastActivity = Date.now();
  }

  /** Resolves on the next event (data, close) or after `ms`, whichever is first. */
  private waitEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(
        () => {
          this.wake = null;
          resolve();
        },
        Math.max(0, ms),
      );
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Waits until `pred(data)` holds or the connection closes; false if `maxMs` passed first. */
  async waitFor(pred: (data: Buffer) => boolean, maxMs: number): Promise<boolean> {
    const deadline = Date.now() + maxMs;
    while (!pred(this.data)) {
      const left = deadline - Date.now();
      if (this.closed || left <= 0) return false;
      await this.waitEvent(left);
    }
    return true;
  }

  /** Waits until nothing was sent or received for `quietMs`, the server closes, or `maxMs` passes. */
  async waitQuiet(quietMs: number, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      const quietLeft = quietMs - (Date.now() - this.lastActivity);
      if (left <= 0 || quietLeft <= 0) return;
      await this.waitEvent(Math.min(left, quietLeft));
    }
  }

  /** Releases the socket at once. */
  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Connects to host:port, sends `chunks` one write each with `pauseMs` between them (stopping early
 * if the server closes), then waits until the connection is quiet for `quietMs`, closed by the
 * server, or `maxMs` has passed. Always releases the socket before resolving.
 */
export async function rawSession(port: number, chunks: readonly Chunk[], opts: RawOptions = {}): Promise<RawResult> {
  const pauseMs = opts.pauseMs ?? 5;
  const quietMs = opts.quietMs ?? 100;
  const maxMs = opts.maxMs ?? 5000;
  const deadline = Date.now() + maxMs;
  const conn = await RawConnection.connect(port, opts.host);
  try {
    if (opts.waitGreeting !== false) await conn.waitFor((d) => d.includes(0x0a), maxMs);
    for (const c of chunks) {
      if (conn.closed || Date.now() >= deadline) break;
      conn.write(c);
      if (pauseMs > 0) await sleep(pauseMs);
    }
    if (opts.settle !== undefined) await conn.waitFor(opts.settle, Math.max(0, deadline - Date.now()));
    await conn.waitQuiet(quietMs, Math.max(0, deadline - Date.now()));
    // Read the flag before destroy(): our own close must not count as the server's.
    return { data: conn.data, closed: conn.closed };
  } finally {
    conn.destroy();
  }
}

/** How much of the server's answer rawBlast keeps (`head`), for assertions on what it said. */
const BLAST_HEAD_CHARS = 4096;

/**
 * For fuzzing: connects, writes `chunks` back to back (a `setImmediate` between writes), then
 * half-closes (FIN) so the server reads every byte before it sees the end, and waits for the
 * socket to close, at most `maxMs`. Never rejects. Returns how many bytes came back, the first
 * BLAST_HEAD_CHARS of them, and whether the server closed before the script was fully written.
 */
export function rawBlast(
  port: number,
  chunks: readonly Chunk[],
  maxMs = 2000,
  host = '127.0.0.1',
): Promise<{ bytes: number; closedByServer: boolean; head: string }> {
  return new Promise((resolve) => {
    let bytes = 0;
    let head = '';
    let serverEnded = false;
    let closedByServer = false;
    let done = false;
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => finish(), maxMs);
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, closedByServer, head });
    };
    socket.on('data', (b: Buffer) => {
      bytes += b.length;
      if (head.length < BLAST_HEAD_CHARS) head += b.toString('latin1', 0, Math.min(b.length, BLAST_HEAD_CHARS - head.length));
    });
    socket.on('end', () => {
      serverEnded = true;
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.once('connect', async () => {
      for (const c of chunks) {
        if (done || serverEnded) {
          closedByServer = true;
          break;
        }
        socket.write(c);
        await new Promise((r) => setImmediate(r));
      }
      if (!done) socket.end();
    });
  });
}

/**
 * Splits a session's bytes into the greeting line (through its LF, or null when there is no
 * complete first line) and everything after it.
 */
export function splitGreeting(data: Buffer): { greeting: string | null; rest: Buffer } {
  const nl = data.indexOf(0x0a);
  if (nl < 0) return { greeting: null, rest: data };
  return { greeting: data.subarray(0, nl + 1).toString('latin1'), rest: data.subarray(nl + 1) };
}

/** True when a TCP connection to 127.0.0.1:`port` is refused (the listener is closed). */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      r(false);
    });
    s.once('error', () => r(true));
  });
}
