// Slow-consumer policy (specs/nats.md §1): a subscriber that stops reading is disconnected once
// its queued bytes pass max_pending; the publisher and other subscribers are unaffected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect } from 'nats';
import { Server } from '../../src/index.js';
import { within } from '../helpers/bounded.js';

/** Bound on each wait below (connect, first reply, a flush, the slow-consumer close). */
const WAIT_MS = 10_000;
/** Bound on the whole test, so a wait that is not itself bounded still cannot hang the suite. */
const TEST_TIMEOUT_MS = 60_000;

test(
  'a subscriber that never reads is closed as a slow consumer; others keep working',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const server = await Server.start({
      port: 0,
      httpPort: 0,
      jetstream: false,
      logLevel: 'silent',
      maxPending: 256 * 1024,
      maxPayload: 64 * 1024,
    });
    // Closed in `finally` too, so a failed wait cannot leave a client keeping the process alive.
    const clients: Array<{ close(): Promise<void> }> = [];
    // A raw subscriber that subscribes and then never reads its socket.
    const stuck = net.connect(server.port, '127.0.0.1');
    try {
      await within(new Promise<void>((r) => stuck.once('connect', () => r())), WAIT_MS, 'the raw subscriber to connect');
      stuck.write('CONNECT {"verbose":false}\r\nSUB big 1\r\nPING\r\n');
      await within(
        new Promise<void>((r) => stuck.once('data', () => r())),
        WAIT_MS,
        "the raw subscriber's first reply (INFO/PONG)",
      );
      stuck.pause();
      const closed = new Promise<void>((r) => stuck.once('close', () => r()));
      stuck.on('error', () => undefined);

      const good = await connect({ servers: server.url });
      clients.push(good);
      let goodGot = 0;
      good.subscribe('big', { callback: () => goodGot++ });
      await within(good.flush(), WAIT_MS, "the good subscriber's SUB");
      const pub = await connect({ servers: server.url });
      clients.push(pub);
      const payload = new Uint8Array(16 * 1024);
      const N = 2000; // 32 MiB in all, far past the 256 KiB limit
      for (let i = 0; i < N; i++) {
        pub.publish('big', payload);
        if (i % 100 === 0) await within(pub.flush(), WAIT_MS, `the publisher's flush after ${i} messages`);
      }
      await within(pub.flush(), WAIT_MS, "the publisher's last flush");
      // Read (and drop) whatever reached the stuck socket, so its close becomes visible here.
      stuck.on('data', () => undefined);
      stuck.resume();
      await within(closed, WAIT_MS, 'the server to close the subscriber that never reads (slow consumer)');
      await within(good.flush(), WAIT_MS, "the good subscriber's flush");
      assert.equal(goodGot, N, 'the well-behaved subscriber got everything');
      const varz = (await (await fetch(`${server.monitorUrl}/varz`, { signal: AbortSignal.timeout(WAIT_MS) })).json()) as {
        slow_consumers: number;
      };
      assert.ok(varz.slow_consumers >= 1);
      const connz = (await (
        await fetch(`${server.monitorUrl}/connz?state=closed`, { signal: AbortSignal.timeout(WAIT_MS) })
      ).json()) as {
        connections: { reason: string }[];
      };
      assert.ok(connz.connections.some((c) => c.reason.startsWith('Slow Consumer')));
      await pub.close();
      await good.close();
    } finally {
      stuck.destroy();
      for (const c of clients) await c.close().catch(() => undefined);
      await server.close();
    }
  },
);
