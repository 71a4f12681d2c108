// Push consumers with flow control and idle heartbeats through real clients: `nats` v2 push
// subscribe (flowControl + idleHeartbeat), `@nats-io/jetstream` v3 bound push consume() and the
// v3 ordered push and ordered pull consumers. Each client answers `100 FlowControl Request` itself; 4,000 × 1 KB
// messages are more than the first flow-control window (2 MiB), so delivery only completes when
// the answers work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as connectV2, consumerOpts, type NatsConnection as V2Connection } from 'nats';
import { startHerald, waitFor } from '../jetstream/helpers.js';

const N = 4000;
const WAIT_MS = 20_000;

let srv: Awaited<ReturnType<typeof startHerald>>;
let nc: NatsConnection;
let nc2: V2Connection;

before(async () => {
  srv = await startHerald();
  nc = await connect({ servers: srv.server.url });
  nc2 = await connectV2({ servers: srv.server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'FLOW', subjects: ['flow.>'] });
  const js = jetstream(nc);
  const payload = new Uint8Array(1024).fill(120);
  // Windows of 100 with a generous ack timeout: the machine may be loaded.
  for (let i = 0; i < N; i += 100) {
    const acks = [];
    for (let k = i; k < i + 100; k++) acks.push(js.publish(`flow.${k % 4}`, payload, { timeout: 30_000 }));
    await Promise.all(acks);
  }
});
after(async () => {
  await nc.close();
  await nc2.close();
  await srv.stop();
});

test('nats v2: push subscribe with flow control and heartbeats gets every message once', async () => {
  const js = nc2.jetstream();
  const opts = consumerOpts();
  opts.durable('v2flow');
  opts.deliverTo('deliver.v2flow');
  opts.flowControl();
  opts.idleHeartbeat(500);
  opts.ackExplicit();
  opts.manualAck();
  const seen = new Set<number>();
  let dup = 0;
  opts.callback((_e, m) => {
    if (m === null) return;
    if (seen.has(m.seq)) dup++;
    seen.add(m.seq);
    m.ack();
  });
  const sub = await js.subscribe('flow.>', opts);
  assert.ok(await waitFor(() => seen.size === N, WAIT_MS), `got ${seen.size}/${N}`);
  assert.equal(dup, 0);
  const jsm = await nc2.jetstreamManager();
  assert.equal((await jsm.consumers.info('FLOW', 'v2flow')).push_bound, true);
  sub.unsubscribe();
  assert.ok(
    await waitFor(async () => (await jsm.consumers.info('FLOW', 'v2flow')).push_bound !== true, WAIT_MS),
    'push_bound clears once the subscriber is gone',
  );
});

test('v3: a bound push consumer with flow control consumes every message', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add('FLOW', {
    durable_name: 'v3flow',
    deliver_subject: 'deliver.v3flow',
    flow_control: true,
    idle_heartbeat: 1_000_000_000,
  });
  const c = await jetstream(nc).consumers.getPushConsumer('FLOW', 'v3flow');
  const iter = await c.consume();
  let n = 0;
  for await (const m of iter) {
    m.ack();
    if (++n === N) break;
  }
  assert.equal(n, N);
});

/** Reads `count` messages from `iter`, checking that stream sequences only go up. */
async function readInOrder(iter: AsyncIterable<{ seq: number }>, count: number): Promise<number> {
  let last = 0;
  let n = 0;
  for await (const m of iter) {
    assert.ok(m.seq > last, `seq ${m.seq} after ${last}`);
    last = m.seq;
    if (++n === count) break;
  }
  return n;
}

test('v3: an ordered push consumer reads the stream in order', async () => {
  const c = await jetstream(nc).consumers.getPushConsumer('FLOW', { filter_subjects: ['flow.1'] });
  assert.equal(await readInOrder(await c.consume(), N / 4), N / 4);
});

test('v3: an ordered pull consumer (consumers.get(stream)) reads the stream in order', async () => {
  const c = await jetstream(nc).consumers.get('FLOW', { filter_subjects: ['flow.2'] });
  assert.equal(await readInOrder(await c.consume({ max_messages: 100 }), N / 4), N / 4);
});
