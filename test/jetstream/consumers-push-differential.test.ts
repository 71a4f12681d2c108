// Push consumers against the real nats-server (`-js`, random port): flow control (the stall, the
// `100 FlowControl Request` reply subject, `Nats-Consumer-Stalled` on heartbeats, resuming once
// answered), `push_bound`, and delivery that waits for interest, compared observation by observation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { differentialConnections } from './differential-pair.js';
import { deliveryWaitsForInterest, flowControlStall } from '../consumers/push-scenarios.js';

const SKIP = !natsServerAvailable();

const pair = differentialConnections(SKIP);

test('flow control stalls, heartbeats name the stall, answering resumes, as nats-server', { skip: SKIP && 'nats-server not installed' }, async () => {
  const [r, h] = await Promise.all([flowControlStall(pair.ref), flowControlStall(pair.herald)]);
  assert.ok(r.deliveredBeforeStall < r.published, `nats-server stalled (${JSON.stringify(r)})`);
  assert.deepEqual(h, r);
});

test('a push consumer delivers nothing until someone subscribes, then everything', { skip: SKIP && 'nats-server not installed' }, async () => {
  const [r, h] = await Promise.all([deliveryWaitsForInterest(pair.ref), deliveryWaitsForInterest(pair.herald)]);
  assert.deepEqual(r, { deliveredBefore: 0, got: 20 });
  assert.deepEqual(h, r);
});
