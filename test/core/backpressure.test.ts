// The router's backpressure policy objects and hold/release bookkeeping, without any door.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Backpressure,
  OutletState,
  STALL_PATIENCE_MS,
  natsLimitPolicy,
  redisPubSubLimitPolicy,
  verdictOnQueued,
  verdictOnTick,
  type Outlet,
  type Producer,
} from '../../src/core/backpressure.js';

class FakeProducer implements Producer {
  closed = false;
  paused = 0;
  resumed = 0;
  pauseInput(): void {
    this.paused++;
  }
  resumeInput(): void {
    this.resumed++;
  }
}

class FakeOutlet implements Outlet {
  closed = false;
  pendingBytes = 0;
}

test('NATS policy: hold from half of max_pending, close past it, close after the write deadline without progress', () => {
  const s = new OutletState(natsLimitPolicy(1000, 10_000));
  assert.equal(verdictOnQueued(s, 400), 'ok');
  assert.equal(verdictOnQueued(s, 600), 'hold');
  assert.equal(verdictOnQueued(s, 1001), 'close-hard');
  s.lastProgress = 1_000;
  assert.equal(verdictOnTick(s, 10, 5_000), 'ok');
  assert.equal(verdictOnTick(s, 10, 11_001), 'close-stalled');
  assert.equal(verdictOnTick(s, 0, 11_001), 'ok', 'nothing pending is never late');
  s.stuck = true;
  assert.equal(verdictOnQueued(s, 600), 'ok', 'a stuck outlet holds nobody; its limits close it');
});

test('Redis pub/sub policy: never holds, closes past the hard limit or over the soft limit for its seconds', () => {
  const s = new OutletState(redisPubSubLimitPolicy(32, 8, 60));
  assert.equal(s.policy.stallAt, Infinity);
  assert.equal(verdictOnQueued(s, 20), 'ok', 'over soft, under hard: not yet');
  assert.ok(s.softSince > 0);
  assert.equal(verdictOnQueued(s, 33), 'close-hard');
  const t0 = s.softSince;
  assert.equal(verdictOnTick(s, 20, t0 + 59_000), 'ok');
  assert.equal(verdictOnTick(s, 20, t0 + 60_001), 'close-soft');
  assert.equal(verdictOnTick(s, 4, t0 + 60_002), 'ok', 'back under the soft limit resets its clock');
  assert.equal(s.softSince, 0);
  const unlimited = redisPubSubLimitPolicy(0, 0, 0);
  assert.equal(unlimited.hardLimit, Infinity);
  assert.equal(verdictOnQueued(new OutletState(unlimited), 1e12), 'ok');
});

test('a held producer resumes once every outlet holding it drained, once', () => {
  const bp = new Backpressure();
  const p = new FakeProducer();
  const a = new FakeOutlet();
  const b = new FakeOutlet();
  const sa = new OutletState(natsLimitPolicy(100, 1000));
  const sb = new OutletState(natsLimitPolicy(100, 1000));
  bp.begin(p);
  a.pendingBytes = 60;
  b.pendingBytes = 70;
  assert.equal(bp.queued(a, sa, 60), 'hold');
  assert.equal(bp.queued(a, sa, 61), 'hold');
  assert.equal(bp.queued(b, sb, 70), 'hold');
  bp.end();
  assert.equal(p.paused, 1);
  assert.ok(bp.isHeld(p));
  bp.progressed(a, sa, Date.now()); // still over 50: keeps holding
  assert.ok(bp.isHeld(p));
  a.pendingBytes = 10;
  bp.progressed(a, sa, Date.now());
  assert.ok(bp.isHeld(p), 'b still holds it');
  b.closed = true;
  bp.outletClosed(b, sb);
  assert.ok(!bp.isHeld(p));
  assert.equal(p.resumed, 1);
  assert.equal(bp.stalls, 1);
});

test('an outlet that makes no progress is given up on and the producer goes on', async () => {
  const bp = new Backpressure();
  const p = new FakeProducer();
  const o = new FakeOutlet();
  const s = new OutletState(natsLimitPolicy(100, 60_000));
  s.lastProgress = Date.now() - STALL_PATIENCE_MS; // no progress for the whole patience already
  o.pendingBytes = 80;
  bp.begin(p);
  assert.equal(bp.queued(o, s, 80), 'hold');
  bp.end();
  const deadline = Date.now() + 5000;
  while (bp.isHeld(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!bp.isHeld(p), 'the producer was released within 5 s');
  assert.equal(p.resumed, 1);
  assert.ok(s.stuck);
  assert.equal(bp.stuckOutlets, 1);
  bp.begin(p);
  assert.equal(bp.queued(o, s, 90), 'ok', 'a stuck outlet does not hold again');
  bp.end();
  bp.progressed(o, s, Date.now());
  assert.ok(!s.stuck, 'progress clears stuck');
});
