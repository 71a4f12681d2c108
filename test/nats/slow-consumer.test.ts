// Slow-consumer policy (specs/nats.md §1): a subscriber that stops reading is disconnected once
// its queued bytes pass max_pending; the publisher and other subscribers are unaffected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect } from 'nats';
import { Server } from '../../src/index.js';

test('a subscriber that never reads is closed as a slow consumer; others keep working', async () => {
  const server = await Server.start({
    port: 0,
    httpPort: 0,
    jetstream: false,
    logLevel: 'silent',
    maxPending: 256 * 1024,
    maxPayload: 64 * 1024,
  });
  try {
    // A raw subscriber that subscribes and then never reads its socket.
    const stuck = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((r) => stuck.once('connect', () => r()));
    stuck.write('CONNECT {"verbose":false}\r\nSUB big 1\r\nPING\r\n');
    await new Promise<void>((r) => stuck.once('data', () => r()));
    stuck.pause();
    const closed = new Promise<void>((r) => stuck.once('close', () => r()));
    stuck.on('error', () => undefined);

    const good = await connect({ servers: server.url });
    let goodGot = 0;
    good.subscribe('big', { callback: () => goodGot++ });
    await good.flush();
    const pub = await connect({ servers: server.url });
    const payload = new Uint8Array(16 * 1024);
    const N = 2000; // 32 MiB in all, far past the 256 KiB limit
    for (let i = 0; i < N; i++) {
      pub.publish('big', payload);
      if (i % 100 === 0) await pub.flush();
    }
    await pub.flush();
    // Read (and drop) whatever reached the stuck socket, so its close becomes visible here.
    stuck.on('data', () => undefined);
    stuck.resume();
    await closed;
    await good.flush();
    assert.equal(goodGot, N, 'the well-behaved subscriber got everything');
    const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as { slow_consumers: number };
    assert.ok(varz.slow_consumers >= 1);
    const connz = (await (await fetch(`${server.monitorUrl}/connz?state=closed`)).json()) as {
      connections: { reason: string }[];
    };
    assert.ok(connz.connections.some((c) => c.reason.startsWith('Slow Consumer')));
    await pub.close();
    await good.close();
  } finally {
    await server.close();
  }
});
