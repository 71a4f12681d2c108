// Router-owned backpressure (src/core/backpressure.ts) seen through the NATS door: a publisher
// whose target is draining is held for as long as the target drains, so nothing is lost and no
// consumer that keeps reading is closed; a consumer that stopped reading is still closed and the
// publisher then proceeds. The first shape is nats.node's test "clobber - buffers don't clobber"
// (one connection publishes to its own subscription, then reads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect as connectV2 } from 'nats';
import { connect as connectV3 } from '@nats-io/transport-node';
import { Server } from '../../src/index.js';

/** Every wait in this file is bounded by this, with a message naming what did not happen. */
const WAIT_MS = 120_000;

function within<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

interface Varz {
  slow_consumers: number;
}

async function slowConsumers(server: Server): Promise<number> {
  const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as Varz;
  return varz.slow_consumers;
}

/** A payload whose first 4 bytes carry its index, so order and loss are both visible. */
function payload(i: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  new DataView(p.buffer).setUint32(0, i);
  return p;
}

/** A subscriber that stops reading for this long once (a GC pause, a slow disk), ms: well under
 * STALL_PATIENCE_MS, long enough for a fast publisher to fill loopback socket buffers (~36 MiB). */
const HICCUP_MS = 400;

/**
 * Busy work in a subscriber callback: `ms` of CPU every 100 messages, so it reads slower than a
 * publisher writes, and one HICCUP_MS stop at message 1000.
 */
function slowReader(ms: number): (i: number) => void {
  return (i) => {
    if (i % 100 !== 99) return;
    const until = Date.now() + (i === 999 ? HICCUP_MS : ms);
    while (Date.now() < until); // a consumer doing real work per batch
  };
}

/** Collects indices and fails on the first gap or reorder. */
class Sequence {
  next = 0;
  error: Error | null = null;
  readonly done: Promise<void>;
  private finish!: () => void;
  constructor(readonly total: number) {
    this.done = new Promise((r) => (this.finish = r));
  }
  take(data: Uint8Array): void {
    const i = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
    if (this.error === null && i !== this.next) this.error = new Error(`expected message ${this.next}, got ${i}`);
    this.next++;
    if (this.next === this.total) this.finish();
  }
}

async function start(maxPending?: number, writeDeadlineMs?: number): Promise<Server> {
  const limits = maxPending === undefined ? {} : { maxPending, maxPayload: 64 * 1024 };
  const deadline = writeDeadlineMs === undefined ? {} : { writeDeadlineMs };
  return Server.start({ port: 0, httpPort: 0, jetstream: false, logLevel: 'silent', ...limits, ...deadline });
}

/** Rejects once `closed` settles: a connection the server closed fails the test at once. */
function failOnClose(closed: Promise<void | Error>): Promise<never> {
  return closed.then((err) => Promise.reject(new Error(`the server closed the connection (${String(err ?? 'no error')})`)));
}

/** What this file needs of a client connection; nats v2 and @nats-io/transport-node both fit. */
interface Conn {
  subscribe(subject: string, opts: { max: number; callback: (err: unknown, m: { data: Uint8Array }) => void }): unknown;
  publish(subject: string, data: Uint8Array): void;
  flush(): Promise<void>;
  closed(): Promise<void | Error>;
}

/**
 * `pub` publishes N × 1 KiB as fast as it can to a subject `sub` (maybe the same connection)
 * reads with `readerMs` of work per 100 messages; asserts all arrive in order with no
 * slow-consumer close.
 */
async function publishAndReceive(server: Server, pub: Conn, sub: Conn, N: number, readerMs: number): Promise<void> {
  const seq = new Sequence(N);
  const work = slowReader(readerMs);
  sub.subscribe('bp', {
    max: N,
    callback: (_e, m) => {
      if (readerMs > 0) work(seq.next);
      seq.take(m.data);
    },
  });
  await within(sub.flush(), 'the subscription');
  const closed = Promise.race([failOnClose(pub.closed()), failOnClose(sub.closed())]);
  for (let i = 0; i < N; i++) pub.publish('bp', payload(i, 1024));
  await within(Promise.race([pub.flush(), closed]), `the flush after ${N} publishes`);
  await within(Promise.race([seq.done, closed]), `all ${N} messages`);
  assert.equal(seq.error, null);
  assert.equal(seq.next, N);
  assert.equal(await slowConsumers(server), 0, 'no slow-consumer close');
}

/** Runs `body` against a fresh server, closing it whatever happens. */
async function withServer(
  maxPending: number | undefined,
  body: (server: Server) => Promise<void>,
  writeDeadlineMs?: number,
): Promise<void> {
  const server = await start(maxPending, writeDeadlineMs);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

test('clobber shape (nats v2): one connection publishes 256,000 × 1 KiB to its own subscription', () =>
  // Default max_pending (64 MiB), as in nats.node's suite.
  withServer(undefined, async (server) => {
    const nc = await connectV2({ servers: server.url, reconnect: false });
    await publishAndReceive(server, nc, nc, 256_000, 0);
    await nc.close();
  }));

test('clobber shape (@nats-io/transport-node), a slow reader and a small max_pending', () =>
  // 100 MiB (loopback socket buffers hold up to ~36 MiB here) through a 1 MiB limit.
  withServer(1024 * 1024, async (server) => {
    const nc = await connectV3({ servers: server.url, reconnect: false });
    await publishAndReceive(server, nc, nc, 100_000, 2);
    await nc.close();
  }));

test('publisher and subscriber on two connections: the publisher is held while the subscriber drains', () =>
  withServer(1024 * 1024, async (server) => {
    const sub = await connectV3({ servers: server.url, reconnect: false });
    const pub = await connectV2({ servers: server.url, reconnect: false });
    await publishAndReceive(server, pub, sub, 100_000, 2);
    await pub.close();
    await sub.close();
  }));

/** A raw NATS connection that records what it receives; every wait is bounded. */
class RawClient {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private wake: (() => void) | null = null;
  closed = false;
  private constructor(readonly sock: net.Socket) {
    sock.on('error', () => undefined);
    sock.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.size += b.length;
      this.wake?.();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static async open(port: number): Promise<RawClient> {
    const sock = net.connect(port, '127.0.0.1');
    await within(new Promise<void>((r) => sock.once('connect', () => r())), 'a raw connection');
    return new RawClient(sock);
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** Waits until `done(received bytes)` holds; fails if the server closes first. */
  async until(done: (size: number) => boolean, what: string): Promise<void> {
    const wait = async (): Promise<void> => {
      while (!done(this.size)) {
        if (this.closed) throw new Error(`the server closed the connection before ${what}`);
        await new Promise<void>((r) => (this.wake = r));
      }
    };
    await within(wait(), what);
  }
}

/** `MSG bp 1 1024\r\n` + 1024 payload bytes + CRLF, the payload led by an 8-digit index. */
const MSG_LINE = 'MSG bp 1 1024\r\n';
const MSG_SIZE = MSG_LINE.length + 1024 + 2;

/** Asserts `text` carries messages 0…n-1 in order. */
function assertInOrder(text: string, n: number): void {
  let next = 0;
  for (let at = text.indexOf(MSG_LINE); at >= 0; at = text.indexOf(MSG_LINE, at + MSG_SIZE - 1)) {
    const i = Number(text.slice(at + MSG_LINE.length, at + MSG_LINE.length + 8));
    assert.equal(i, next, `message ${next} is followed by ${i}`);
    next++;
  }
  assert.equal(next, n, 'every message arrived');
}

/**
 * Deterministic form of both shapes: a Node socket keeps writing while its reads are paused, so
 * herald parses far more than loopback socket buffers (~36 MiB) hold while the subscriber does not
 * read for HICCUP_MS. The publisher must be held, not the subscriber closed.
 */
async function rawHiccup(server: Server, sameConnection: boolean): Promise<void> {
  const N = 60_000; // 60 MiB through a 1 MiB max_pending
  const body = 'x'.repeat(1016);
  const frames: string[] = [];
  for (let i = 0; i < N; i++) frames.push(`PUB bp 1024\r\n${String(i).padStart(8, '0')}${body}\r\n`);
  const sub = await RawClient.open(server.port);
  sub.sock.write('CONNECT {"verbose":false,"pedantic":false}\r\nSUB bp 1\r\nPING\r\n');
  await sub.until(() => sub.text().includes('PONG\r\n'), 'the PONG after SUB');
  const before = sub.text().length;
  const pub = sameConnection ? sub : await RawClient.open(server.port);
  if (!sameConnection) pub.sock.write('CONNECT {"verbose":false,"pedantic":false}\r\n');
  sub.sock.pause();
  pub.sock.write(frames.join(''));
  await new Promise((r) => setTimeout(r, HICCUP_MS));
  sub.sock.resume();
  await sub.until((n) => n >= before + N * MSG_SIZE, `all ${N} messages`);
  assertInOrder(sub.text(), N);
  assert.equal(await slowConsumers(server), 0, 'no slow-consumer close');
  sub.sock.destroy();
  pub.sock.destroy();
}

test('raw client: one connection writes 60 MiB to its own subscription while not reading for a moment', () =>
  withServer(1024 * 1024, (server) => rawHiccup(server, true)));

test('raw clients: a publisher writes 60 MiB while its subscriber does not read for a moment', () =>
  withServer(1024 * 1024, (server) => rawHiccup(server, false)));

test('a subscriber that stopped reading is closed, and the held publisher then proceeds', () =>
  withServer(256 * 1024, async (server) => {
    const stuck = net.connect(server.port, '127.0.0.1');
    stuck.on('error', () => undefined);
    await within(new Promise<void>((r) => stuck.once('connect', () => r())), 'the raw connection');
    stuck.write('CONNECT {"verbose":false}\r\nSUB stuck 1\r\nPING\r\n');
    await within(new Promise<void>((r) => stuck.once('data', () => r())), 'the raw PONG');
    stuck.pause();
    const stuckClosed = new Promise<void>((r) => stuck.once('close', () => r()));

    const pub = await connectV2({ servers: server.url, reconnect: false });
    const N = 4000; // 64 MiB of 16 KiB messages
    const data = new Uint8Array(16 * 1024);
    for (let i = 0; i < N; i++) {
      pub.publish('stuck', data);
      if (i % 200 === 0) await within(pub.flush(), `publisher flush at ${i}`);
    }
    await within(pub.flush(), 'the last publisher flush (the publisher proceeds)');
    stuck.on('data', () => undefined);
    stuck.resume();
    await within(stuckClosed, 'the stuck subscriber to be closed');
    assert.ok((await slowConsumers(server)) >= 1);
    const connz = (await (await fetch(`${server.monitorUrl}/connz?state=closed`)).json()) as {
      connections: { reason: string }[];
    };
    assert.ok(connz.connections.some((c) => c.reason.startsWith('Slow Consumer')));
    await pub.close();
  }));

test('a subscriber that stopped reading below max_pending is closed at the write deadline', () =>
  withServer(
    undefined,
    async (server) => {
      const stuck = await RawClient.open(server.port);
      stuck.sock.write('CONNECT {"verbose":false}\r\nSUB stuck 1\r\nPING\r\n');
      await stuck.until(() => stuck.text().includes('PONG\r\n'), 'the PONG after SUB');
      stuck.sock.pause();
      const pub = await connectV2({ servers: server.url, reconnect: false });
      // 48 MiB: more than loopback socket buffers hold, less than half of max_pending (64 MiB),
      // so the publisher is never held and only the write deadline can close the subscriber.
      const data = new Uint8Array(16 * 1024);
      for (let i = 0; i < 3000; i++) {
        pub.publish('stuck', data);
        if (i % 200 === 0) await within(pub.flush(), `publisher flush at ${i}`);
      }
      await within(pub.flush(), 'the last publisher flush');
      const closedFor = async (): Promise<void> => {
        for (;;) {
          const connz = (await (await fetch(`${server.monitorUrl}/connz?state=closed`)).json()) as {
            connections: { reason: string }[];
          };
          if (connz.connections.some((c) => c.reason === 'Slow Consumer (Write Deadline)')) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await within(closedFor(), 'a close for the write deadline', 30_000);
      assert.ok((await slowConsumers(server)) >= 1);
      await pub.close();
      stuck.sock.destroy();
    },
    500,
  ));
