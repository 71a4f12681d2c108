// Stream and consumer action advisories against the real nats-server (`-js`, random port): the same
// API steps on both servers, then the subjects, types, actions and JSON field order compared
// (ids and timestamps differ by nature). nats-server 2.9 has no PAUSE advisory; that one is
// checked against the 2.11 source in test/consumers/advisories-pause.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from 'nats';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { differentialConnections } from './differential-pair.js';
import { api } from '../consumers/push-scenarios.js';
import { waitFor } from './helpers.js';

const SKIP = !natsServerAvailable();

const pair = differentialConnections(SKIP);

async function actions(nc: NatsConnection): Promise<unknown[]> {
  const got: unknown[] = [];
  nc.subscribe('$JS.EVENT.ADVISORY.>', {
    callback: (_e, m) => {
      // The API audit advisory ($JS.EVENT.ADVISORY.API) is not part of this comparison.
      if (m.subject === '$JS.EVENT.ADVISORY.API') return;
      const body = JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>;
      got.push([m.subject, Object.keys(body), body.type, body.stream, body.consumer, body.action]);
    },
  });
  await nc.flush();
  await api(nc, '$JS.API.STREAM.CREATE.ACT', { name: 'ACT', subjects: ['act.>'] });
  await api(nc, '$JS.API.STREAM.UPDATE.ACT', { name: 'ACT', subjects: ['act.>', 'act2.>'] });
  await api(nc, '$JS.API.CONSUMER.DURABLE.CREATE.ACT.d', { stream_name: 'ACT', config: { durable_name: 'd' } });
  await api(nc, '$JS.API.CONSUMER.CREATE.ACT', { stream_name: 'ACT', config: { name: 'eph', ack_policy: 'explicit' } });
  await api(nc, '$JS.API.CONSUMER.DELETE.ACT.d');
  await api(nc, '$JS.API.STREAM.DELETE.ACT');
  await waitFor(() => got.length >= 6, 5000);
  // Give stragglers (advisories herald might send and nats-server not) one more round trip.
  await nc.flush();
  return got;
}

test('stream and consumer CREATED / UPDATED / DELETED advisories match nats-server', { skip: SKIP && 'nats-server not installed' }, async () => {
  const [r, h] = await Promise.all([actions(pair.ref), actions(pair.herald)]);
  assert.ok(r.length >= 5, `nats-server sent ${JSON.stringify(r)}`);
  assert.deepEqual(h, r);
});

async function ackMetric(nc: NatsConnection): Promise<unknown[]> {
  const got: unknown[] = [];
  nc.subscribe('$JS.EVENT.METRIC.CONSUMER.ACK.MET.s', {
    callback: (_e, m) => {
      const body = JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>;
      got.push([m.subject, Object.keys(body), body.type, body.stream, body.consumer, body.consumer_seq, body.stream_seq, body.deliveries]);
    },
  });
  await api(nc, '$JS.API.STREAM.CREATE.MET', { name: 'MET', subjects: ['met.>'] });
  await api(nc, '$JS.API.CONSUMER.DURABLE.CREATE.MET.s', {
    stream_name: 'MET',
    config: { durable_name: 's', ack_policy: 'explicit', sample_freq: '100%' },
  });
  await nc.request('met.x', 'one', { timeout: 3000 });
  // noMux: a pull delivery names the stream subject, not the inbox the mux would route by.
  const m = await nc.request('$JS.API.CONSUMER.MSG.NEXT.MET.s', JSON.stringify({ batch: 1 }), { timeout: 3000, noMux: true });
  nc.publish(m.reply!, '+ACK');
  await nc.flush();
  await waitFor(() => got.length >= 1, 5000);
  return got;
}

test('sample_freq: the consumer_ack metric matches nats-server', { skip: SKIP && 'nats-server not installed' }, async () => {
  const [r, h] = await Promise.all([ackMetric(pair.ref), ackMetric(pair.herald)]);
  assert.equal(r.length, 1, `nats-server sent ${JSON.stringify(r)}`);
  assert.deepEqual(h, r);
});
