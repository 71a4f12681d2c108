// write_deadline (README "Limits"): a connection whose socket write has been stalled longer than
// write_deadline is closed as a slow consumer, reason "Slow Consumer (Write Deadline)", and counted
// in /varz slow_consumers. max_pending is set far above what is published, so only the deadline
// can be what closes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect } from 'nats';
import { Server } from '../../src/index.js';
import { within } from '../helpers/bounded.js';

/** Short, so the test is quick; the housekeeping tick that checks it runs several times a second. */
const WRITE_DEADLINE_MS = 300;
/** Bound on each wait (the close comes one deadline plus a tick after the socket stalls). */
const WAIT_MS = 10_000;
/** Published to the stuck subscriber: well past what loopback socket buffers absorb. */
const PUBLISH_BYTES = 48 * 1024 * 1024;

test('a subscriber whose writes stall past write_deadline is closed as a slow consumer', { timeout: 60_000 }, async () => {
  const server = await Server.start({
    port: 0,
    httpPort: 0,
    jetstream: false,
    logLevel: 'silent',
    writeDeadlineMs: WRITE_DEADLINE_MS,
    maxPending: 1024 * 1024 * 1024,
  });
  const stuck = net.connect(server.port, '127.0.0.1');
  stuck.on('error', () => undefined);
  const clients: Array<{ close(): Promise<void> }> = [];
  try {
    await within(new Promise<void>((r) => stuck.once('connect', () => r())), WAIT_MS, 'the raw subscriber to connect');
    stuck.write('CONNECT {"verbose":false}\r\nSUB wd 1\r\nPING\r\n');
    await within(new Promise<void>((r) => stuck.once('data', () => r())), WAIT_MS, "the raw subscriber's first reply");
    stuck.pause(); // never reads again
    const closed = new Promise<void>((r) => stuck.once('close', () => r()));

    const pub = await connect({ servers: server.url });
    clients.push(pub);
    const payload = new Uint8Array(64 * 1024);
    for (let sent = 0; sent < PUBLISH_BYTES; sent += payload.length) {
      pub.publish('wd', payload);
      if (sent % (1024 * 1024) === 0) await within(pub.flush(), WAIT_MS, 'a publisher flush');
    }
    await within(pub.flush(), WAIT_MS, "the publisher's last flush");
    // The subscriber stays paused until the server has closed it: reading again would be progress,
    // and the deadline counts from the last completed write (src/core/backpressure.ts).
    type Closed = { connections: { reason: string }[] };
    const closedReasons = async (): Promise<string[]> => {
      const r = await fetch(`${server.monitorUrl}/connz?state=closed`, { signal: AbortSignal.timeout(WAIT_MS) });
      return ((await r.json()) as Closed).connections.map((c) => c.reason);
    };
    const deadline = Date.now() + WAIT_MS;
    let reasons = await closedReasons();
    while (!reasons.includes('Slow Consumer (Write Deadline)') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      reasons = await closedReasons();
    }
    assert.ok(reasons.includes('Slow Consumer (Write Deadline)'), `closed reasons after ${WAIT_MS} ms: ${JSON.stringify(reasons)}`);
    stuck.on('data', () => undefined);
    stuck.resume();
    await within(closed, WAIT_MS, 'the closed subscriber socket to end');
    const varz = (await (await fetch(`${server.monitorUrl}/varz`, { signal: AbortSignal.timeout(WAIT_MS) })).json()) as {
      slow_consumers: number;
      write_deadline: number;
    };
    assert.ok(varz.slow_consumers >= 1, 'counted as a slow consumer');
    assert.equal(varz.write_deadline, WRITE_DEADLINE_MS * 1e6, '/varz reports the configured deadline in ns');
  } finally {
    stuck.destroy();
    for (const c of clients) await c.close().catch(() => undefined);
    await server.close();
  }
});
