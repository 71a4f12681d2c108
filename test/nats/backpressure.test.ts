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

/** Busy work in a subscriber callback: `ms` of CPU every 100 messages, so it reads slower than a publisher writes. */
function slowReader(ms: number): (i: number) => void {
  return (i) => {
    if (i % 100 !== 99) return;
    const until = Date.now() + ms;
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

async function start(maxPending?: number): Promise<Server> {
  const limits = maxPending === undefined ? {} : { maxPending, maxPayload: 64 * 1024 };
  return Server.start({ port: 0, httpPort: 0, jetstream: false, logLevel: 'silent', ...limits });
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
async function withServer(maxPending: number | undefined, body: (server: Server) => Promise<void>): Promise<void> {
  const server = await start(maxPending);
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
