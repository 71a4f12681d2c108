// replay_policy original, rate_limit_bps and sample_freq, applied (not only echoed), through the v3
// client. The waits are lower bounds taken from the stored spacing and the configured rate: a
// loaded machine only makes them longer, so they cannot fail for being slow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckPolicy, jetstream, ReplayPolicy } from '@nats-io/jetstream';
import { waitFor } from '../jetstream/helpers.js';
import { heraldV3 } from './setup.js';

const h = heraldV3();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('replay_policy original spaces deliveries as the messages were spaced', async () => {
  await h.jsm.streams.add({ name: 'RP', subjects: ['rp.>'] });
  const js = jetstream(h.nc);
  const GAP = 400;
  for (let i = 0; i < 3; i++) {
    await js.publish('rp.x', `m${i}`);
    if (i < 2) await sleep(GAP);
  }
  const stored: number[] = [];
  for (let seq = 1; seq <= 3; seq++) stored.push((await h.jsm.streams.getMessage('RP', { seq }))!.time.getTime());
  await h.jsm.consumers.add('RP', { durable_name: 'orig', replay_policy: ReplayPolicy.Original });
  const c = await js.consumers.get('RP', 'orig');
  const at: number[] = [];
  for await (const m of await c.fetch({ max_messages: 3, expires: 10_000 })) {
    at.push(Date.now());
    m.ack();
  }
  assert.equal(at.length, 3);
  for (let i = 1; i < 3; i++) {
    const want = stored[i] - stored[i - 1];
    // Half the gap: the client's own read jitter on a loaded machine can shift one arrival.
    assert.ok(at[i] - at[i - 1] >= want / 2, `delivery ${i} came ${at[i] - at[i - 1]} ms after the previous, stored ${want} ms apart`);
  }
});

test('rate_limit_bps holds deliveries to the configured bytes per second', async () => {
  // max_msg_size bounds the burst at about one message (nats-server consumer.go setRateLimit).
  await h.jsm.streams.add({ name: 'RL', subjects: ['rl.>'], max_msg_size: 1100 });
  const js = jetstream(h.nc);
  const N = 12;
  for (let i = 0; i < N; i++) await js.publish('rl.x', new Uint8Array(1000));
  const BPS = 8 * 10_000; // 10 KB/s
  await h.jsm.consumers.add('RL', { durable_name: 'slow', rate_limit_bps: BPS });
  const c = await js.consumers.get('RL', 'slow');
  const t0 = Date.now();
  let n = 0;
  for await (const m of await c.fetch({ max_messages: N, expires: 20_000 })) {
    m.ack();
    if (++n === N) break;
  }
  assert.equal(n, N);
  // N messages of ~1 KB after a burst of one: at least (N - 2) × 100 ms.
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= (N - 2) * 100, `${N} messages at 10 KB/s took only ${elapsed} ms`);
});

test('sample_freq 100% reports every ack as a consumer_ack metric', async () => {
  await h.jsm.streams.add({ name: 'SF', subjects: ['sf.>'] });
  await h.jsm.consumers.add('SF', { durable_name: 's', ack_policy: AckPolicy.Explicit, sample_freq: '100%' });
  const got: Record<string, unknown>[] = [];
  h.nc.subscribe('$JS.EVENT.METRIC.CONSUMER.ACK.SF.s', {
    callback: (_e, m) => {
      got.push(m.json<Record<string, unknown>>());
    },
  });
  await h.nc.flush();
  const js = jetstream(h.nc);
  await js.publish('sf.x', 'one');
  await js.publish('sf.x', 'two');
  const c = await js.consumers.get('SF', 's');
  for await (const m of await c.fetch({ max_messages: 2, expires: 5000 })) await m.ackAck();
  assert.ok(await waitFor(() => got.length === 2, 5000), `metrics: ${JSON.stringify(got)}`);
  assert.deepEqual(Object.keys(got[0]), ['type', 'id', 'timestamp', 'stream', 'consumer', 'consumer_seq', 'stream_seq', 'ack_time', 'deliveries']);
  assert.equal(got[0].type, 'io.nats.jetstream.metric.v1.consumer_ack');
  assert.deepEqual([got[0].stream_seq, got[1].stream_seq, got[0].deliveries], [1, 2, 1]);
  assert.ok((got[0].ack_time as number) >= 0);
});
