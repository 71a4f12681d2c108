// The single-timer scheduler behind stream expiry (DESIGN.md "No timer per message").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler, type TimerOwner } from '../../src/stream/timers.js';
import { waitFor } from './helpers.js';

test('fires owners in deadline order, each once, and supports move and cancel', async () => {
  const s = new Scheduler();
  const fired: string[] = [];
  const mk = (name: string): TimerOwner => ({ onTimer: () => void fired.push(name) });
  const a = mk('a');
  const b = mk('b');
  const c = mk('c');
  const d = mk('d');
  const now = Date.now();
  s.schedule(c, now + 30);
  s.schedule(a, now + 10);
  s.schedule(b, now + 20);
  s.schedule(d, now + 15);
  s.cancel(d);
  s.schedule(c, now + 5); // moved earlier
  assert.equal(s.size, 3);
  assert.ok(await waitFor(() => fired.length === 3, 5000, 5));
  assert.deepEqual(fired, ['c', 'a', 'b']);
  assert.equal(s.size, 0);
  s.close();
});

test('heap order holds for many owners with random deadlines', async () => {
  const s = new Scheduler();
  const order: number[] = [];
  const now = Date.now();
  const deadlines: number[] = [];
  for (let i = 0; i < 200; i++) {
    const at = now + 5 + Math.floor(Math.random() * 60);
    deadlines.push(at);
    const owner: TimerOwner = { onTimer: () => void order.push(at) };
    s.schedule(owner, at);
  }
  assert.ok(await waitFor(() => order.length === 200, 5000, 5));
  for (let i = 1; i < order.length; i++) assert.ok(order[i - 1] <= order[i] + 1, 'fired out of order');
  s.close();
});

test('an owner that throws does not stop the others', async () => {
  const s = new Scheduler();
  let ok = false;
  s.schedule(
    {
      onTimer: () => {
        throw new Error('boom');
      },
    },
    Date.now(),
  );
  s.schedule(
    {
      onTimer: () => {
        ok = true;
      },
    },
    Date.now(),
  );
  assert.ok(await waitFor(() => ok, 2000, 5));
  s.close();
});
