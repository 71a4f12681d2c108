// Herald issue 8 (the push stall): a push consumer whose subscriber lives in another process and
// acks every message. Each ack ran a delivery pump that sent a whole PUSH_BATCH of its own, so
// one read of a few hundred acks queued the entire max_ack_pending window (20 MB here) in a
// single turn of the event loop: the subscriber saw 256–512 messages while the server was
// busy, and other connections waited. Push delivery is now capped per turn over all pumps
// (src/stream/consumer.ts, PUSH_BATCH). This test is the bench's js-push-1k shape with real
// clients: 20,000 × 1 KB, max_ack_pending 20,000, every message delivered once and acked, and a
// bystander connection answered while the delivery is under way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { startHerald, waitFor } from '../jetstream/helpers.js';

const N = 20_000;
/** Generous bounds: the machine may be loaded. */
const READY_MS = 20_000;
const DELIVERY_MS = 120_000;

let srv: Awaited<ReturnType<typeof startHerald>>;
let nc: NatsConnection;
let jsm: JetStreamManager;
let child: ChildProcess | null = null;

before(async () => {
  srv = await startHerald();
  nc = await connect({ servers: srv.server.url });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'PSTALL', subjects: ['pstall.>'] });
  const js = jetstream(nc);
  const payload = new Uint8Array(1024).fill(97);
  for (let i = 0; i < N; i += 500) {
    const acks = [];
    for (let k = i; k < i + 500; k++) acks.push(js.publish('pstall.x', payload, { timeout: 30_000 }));
    await Promise.all(acks);
  }
});
after(async () => {
  if (child !== null && child.connected) child.disconnect();
  child?.kill();
  await nc.close();
  await srv.stop();
});

test('push consumer: a subscriber in another process acking each of 20,000 × 1 KB gets them all', async () => {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'push-ack-child.js');
  const c = fork(script, [srv.server.url, 'dlv.pstall', String(N)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child = c;
  let ready = false;
  let progress = 0;
  let done: { done: number; dup: number } | null = null;
  let exited: number | null = null;
  c.on('message', (m: { ready?: boolean; progress?: number; done?: number; dup: number }) => {
    if (m.ready === true) ready = true;
    if (m.progress !== undefined) progress = m.progress;
    if (m.done !== undefined) done = { done: m.done, dup: m.dup };
  });
  c.on('exit', (code) => (exited = code ?? -1));
  assert.ok(await waitFor(() => ready || exited !== null, READY_MS), 'the subscriber process did not get ready');
  assert.equal(exited, null, 'the subscriber process exited early');

  await jsm.consumers.add('PSTALL', {
    durable_name: 'stall',
    deliver_subject: 'dlv.pstall',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: N,
  });
  // A bystander's round trip while the window is going out (the stall also held other clients).
  await nc.flush();
  assert.ok(
    await waitFor(() => done !== null || exited !== null, DELIVERY_MS, 50),
    `subscriber got ${progress}/${N} messages within ${DELIVERY_MS} ms`,
  );
  const d = done as { done: number; dup: number } | null;
  assert.ok(d !== null, `subscriber process exited (${exited}) after ${progress}/${N} messages`);
  assert.equal(d.done, N);
  assert.equal(d.dup, 0, 'no message was delivered twice');

  // Every ack arrived (the child flushed them before reporting done).
  let info = await jsm.consumers.info('PSTALL', 'stall');
  assert.ok(
    await waitFor(async () => {
      info = await jsm.consumers.info('PSTALL', 'stall');
      return info.num_ack_pending === 0;
    }, DELIVERY_MS),
    `num_ack_pending still ${info.num_ack_pending}`,
  );
  assert.equal(info.delivered.stream_seq, N);
  assert.equal(info.ack_floor.stream_seq, N);
  assert.equal(info.num_redelivered, 0);
});
