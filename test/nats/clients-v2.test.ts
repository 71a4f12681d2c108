// Core messaging with the `nats` v2 client (nats.node 2.29): the scenarios a user of nats-server
// relies on (specs/nats.md §1–§2). Differential: every scenario runs against herald and against
// the real nats-server, with the same expectations.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, StringCodec, headers, Empty, ErrorCode, type NatsConnection, type Msg } from 'nats';
import { Server } from '../../src/index.js';
import { startNatsServer } from '../helpers/nats-server.js';

const sc = StringCodec();

/** A server under test: herald in-process, or the reference nats-server as a child process. */
interface Target {
  url: string;
  /** herald's own server object, for assertions on its internals (null for nats-server). */
  herald: Server | null;
  stop(): Promise<void>;
}

const TARGETS: [string, () => Promise<Target>][] = [
  [
    'herald',
    async () => {
      const s = await Server.start({ port: 0, jetstream: false, logLevel: 'silent' });
      return { url: s.url, herald: s, stop: () => s.close() };
    },
  ],
  [
    'nats-server',
    async () => {
      const n = await startNatsServer();
      return { url: n.url, herald: null, stop: () => n.stop() };
    },
  ],
];

for (const [name, start] of TARGETS) {
  describe(name, () => {
    let server: Target;

    before(async () => {
      server = await start();
    });
    after(async () => {
      await server.stop();
    });

    async function collect(nc: NatsConnection, subject: string, n: number, opts: { queue?: string } = {}): Promise<Msg[]> {
      const sub = nc.subscribe(subject, { queue: opts.queue, max: n });
      const out: Msg[] = [];
      for await (const m of sub) out.push(m);
      return out;
    }

    test('pub/sub with * and > wildcards', async () => {
      const nc = await connect({ servers: server.url });
      const exact = nc.subscribe('orders.eu.new', { max: 1 });
      const star = nc.subscribe('orders.*.new', { max: 2 });
      const gt = nc.subscribe('orders.>', { max: 3 });
      await nc.flush();
      nc.publish('orders.eu.new', sc.encode('1'));
      nc.publish('orders.us.new', sc.encode('2'));
      nc.publish('orders.us.old.x', sc.encode('3'));
      const got = async (s: typeof exact) => {
        const r: string[] = [];
        for await (const m of s) r.push(`${m.subject}=${sc.decode(m.data)}`);
        return r;
      };
      assert.deepEqual(await got(exact), ['orders.eu.new=1']);
      assert.deepEqual(await got(star), ['orders.eu.new=1', 'orders.us.new=2']);
      assert.deepEqual(await got(gt), ['orders.eu.new=1', 'orders.us.new=2', 'orders.us.old.x=3']);
      await nc.close();
    });

    test('queue group: each message to one member, spread over 3 members', async () => {
      const pub = await connect({ servers: server.url });
      const members = await Promise.all([1, 2, 3].map(() => connect({ servers: server.url })));
      const counts = [0, 0, 0];
      const subs = members.map((nc, i) => nc.subscribe('jobs', { queue: 'workers', callback: () => counts[i]++ }));
      await Promise.all(members.map((nc) => nc.flush()));
      const N = 3000;
      for (let i = 0; i < N; i++) pub.publish('jobs', sc.encode(String(i)));
      await pub.flush();
      await Promise.all(members.map((nc) => nc.flush()));
      assert.equal(counts[0] + counts[1] + counts[2], N);
      // Random choice: each member's share is near a third (loose bound, 3000 draws).
      for (const c of counts) assert.ok(c > N / 6, `uneven distribution ${counts}`);
      subs.forEach((s) => s.unsubscribe());
      await Promise.all([pub, ...members].map((nc) => nc.close()));
    });

    test('request-reply through the mux inbox, and no-responders', async () => {
      const nc = await connect({ servers: server.url });
      nc.subscribe('math.double', {
        callback: (_e, m) => m.respond(sc.encode(String(2 * Number(sc.decode(m.data))))),
      });
      await nc.flush();
      for (let i = 0; i < 20; i++) {
        const r = await nc.request('math.double', sc.encode(String(i)), { timeout: 2000 });
        assert.equal(sc.decode(r.data), String(2 * i));
      }
      await assert.rejects(
        nc.request('nobody.home', Empty, { timeout: 2000 }),
        (e: { code?: string }) => e.code === ErrorCode.NoResponders,
      );
      await nc.close();
    });

    test('headers round-trip', async () => {
      const nc = await connect({ servers: server.url });
      const p = collect(nc, 'h.test', 1);
      await nc.flush();
      const h = headers();
      h.append('X-Trace', 'abc');
      h.append('X-Multi', '1');
      h.append('X-Multi', '2');
      nc.publish('h.test', sc.encode('body'), { headers: h });
      const [m] = await p;
      assert.equal(m.headers?.get('X-Trace'), 'abc');
      assert.deepEqual(m.headers?.values('X-Multi'), ['1', '2']);
      assert.equal(sc.decode(m.data), 'body');
      await nc.close();
    });

    test("noEcho skips the publisher's own subscriptions", async () => {
      const a = await connect({ servers: server.url, noEcho: true });
      const b = await connect({ servers: server.url });
      let selfSeen = 0;
      a.subscribe('echo.t', { callback: () => selfSeen++ });
      const p = collect(b, 'echo.t', 1);
      await a.flush();
      await b.flush();
      a.publish('echo.t', sc.encode('x'));
      await a.flush();
      const [m] = await p;
      assert.equal(sc.decode(m.data), 'x');
      await a.flush();
      assert.equal(selfSeen, 0);
      await a.close();
      await b.close();
    });

    test('flush orders after earlier publishes; drain delivers what was in flight', async () => {
      const sub = await connect({ servers: server.url });
      let n = 0;
      sub.subscribe('drain.t', { callback: () => n++ });
      await sub.flush();
      const pub = await connect({ servers: server.url });
      for (let i = 0; i < 1000; i++) pub.publish('drain.t', sc.encode('m'));
      await pub.flush();
      await sub.drain();
      assert.equal(n, 1000);
      await pub.close();
    });

    test('unsubscribe after max deliveries', async () => {
      const nc = await connect({ servers: server.url });
      const s = nc.subscribe('max.t', { max: 3 });
      await nc.flush();
      for (let i = 0; i < 10; i++) nc.publish('max.t', sc.encode(String(i)));
      const seen: string[] = [];
      for await (const m of s) seen.push(sc.decode(m.data));
      assert.deepEqual(seen, ['0', '1', '2']);
      await nc.flush();
      // The server removed the subscription itself once the third message went out.
      if (server.herald !== null) assert.equal(server.herald.router.sublist.match('max.t').plain.length, 0);
      await nc.close();
    });
  });
}

// herald-only: restarting the reference server on a fixed port is the harness's business.
test('reconnects after herald restarts on the same port', async () => {
  const s1 = await Server.start({ port: 0, jetstream: false, logLevel: 'silent' });
  const port = s1.port;
  const nc = await connect({ servers: s1.url, reconnectTimeWait: 100, maxReconnectAttempts: 50 });
  const got: string[] = [];
  nc.subscribe('re.t', { callback: (_e, m) => got.push(sc.decode(m.data)) });
  await nc.flush();
  await s1.close();
  const s2 = await Server.start({ port, jetstream: false, logLevel: 'silent' });
  try {
    // The client re-subscribes under its old sid once it is back.
    for (let i = 0; i < 100 && !(await reconnected(nc)); i++) await new Promise((r) => setTimeout(r, 100));
    const pub = await connect({ servers: s2.url });
    for (let i = 0; i < 50 && got.length === 0; i++) {
      pub.publish('re.t', sc.encode('after'));
      await pub.flush();
      await nc.flush().catch(() => undefined);
    }
    assert.ok(got.includes('after'));
    await pub.close();
  } finally {
    await nc.close();
    await s2.close();
  }
});

async function reconnected(nc: NatsConnection): Promise<boolean> {
  try {
    await nc.flush();
    return true;
  } catch {
    return false;
  }
}
