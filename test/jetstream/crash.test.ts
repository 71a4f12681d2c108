// Crash safety of acknowledged publishes (DESIGN.md "Durability, stated honestly"): herald runs
// in a child process, clients publish concurrently and record every ack, the child is killed
// with SIGKILL at a random moment, restarted on the same data dir, and every acked message must
// be there, byte for byte, under the seq its ack named, with the message id it was published with.
// Checked after every kill; every round must ack something before its kill. Bounded; no timing asserts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { kill, startChild } from './child.js';
import { tmpDir } from './helpers.js';
import type { ChildProcess } from 'node:child_process';

/** Kill-and-recover rounds. */
const ROUNDS = 6;
/** Concurrent publishers per round. */
const PUBLISHERS = 8;

/** Bound on the wait for a round's first ack before the kill. */
const FIRST_ACK_TIMEOUT_MS = 10_000;

/** What one ack promised: the message id and payload stored under its seq. */
interface Acked {
  id: string;
  hex: string;
}

/**
 * Every ack so far, checked on a freshly recovered child: by (sequence, message id, payload), so
 * an acked message lost in one kill is seen even when a later round reuses its sequence.
 */
async function verifyAll(jsm: JetStreamManager, acked: Map<number, Acked>, ctx: string): Promise<void> {
  const info = await jsm.streams.info('CRASH');
  for (const [seq, a] of acked) {
    const m = await jsm.streams.getMessage('CRASH', { seq });
    assert.notEqual(m, null, `${ctx}: acked seq ${seq} (${a.id}) is missing after crash recovery`);
    assert.equal(m!.header?.get('Nats-Msg-Id'), a.id, `${ctx}: acked seq ${seq} holds another message than ${a.id}`);
    assert.equal(Buffer.from(m!.data).toString('hex'), a.hex, `${ctx}: acked seq ${seq} (${a.id}) changed`);
  }
  if (acked.size > 0) assert.ok(info.state.last_seq >= Math.max(...acked.keys()), `${ctx}: last_seq went below an ack`);
}

test('every acked publish survives SIGKILL at random moments', { timeout: 120_000 }, async (t) => {
  const dataDir = tmpDir('herald-crash-');
  const acked = new Map<number, Acked>();
  let totalAttempts = 0;
  // Killed in `finally` too, so a failed check never leaves a child keeping the test process alive.
  let live: ChildProcess | null = null;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const { child, url } = await startChild(dataDir);
      live = child;
      const nc: NatsConnection = await connect({ servers: url, reconnect: false });
      const jsm = await jetstreamManager(nc);
      if (round === 0) await jsm.streams.add({ name: 'CRASH', subjects: ['crash.>'], storage: StorageType.File });
      // What the previous kill left must hold every ack made before it.
      else await verifyAll(jsm, acked, `after kill ${round}`);
      const js = jetstream(nc);
      let stop = false;
      let roundAcks = 0;
      let firstAck: () => void = () => undefined;
      const gotFirst = new Promise<void>((resolve) => (firstAck = resolve));
      const workers = Array.from({ length: PUBLISHERS }, async (_, w) => {
        let i = 0;
        while (!stop) {
          const payload = randomBytes(16 + ((w * 131 + i * 17) % 900));
          const id = `${round}-${w}-${i}`;
          totalAttempts++;
          try {
            const ack = await js.publish(`crash.${w}`, payload, { msgID: id, timeout: 2000 });
            if (!ack.duplicate) {
              const prev = acked.get(ack.seq);
              assert.equal(prev, undefined, `seq ${ack.seq} acked for ${id} was already acked for ${prev?.id}`);
              acked.set(ack.seq, { id, hex: payload.toString('hex') });
              roundAcks++;
              firstAck();
            }
          } catch (e) {
            if (e instanceof assert.AssertionError) throw e;
            // Connection lost with the process: this publish was never acked.
            return;
          }
          i++;
        }
      });
      let waited: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((_, reject) => {
        waited = setTimeout(
          () => reject(new Error(`round ${round}: no publish acked within ${FIRST_ACK_TIMEOUT_MS} ms`)),
          FIRST_ACK_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([gotFirst, timedOut]);
      } finally {
        clearTimeout(waited);
      }
      await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 200)));
      await kill(child);
      stop = true;
      const results = await Promise.allSettled(workers);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
      await nc.close().catch(() => undefined);
      assert.ok(roundAcks > 0, `round ${round} acked nothing before the kill`);
    }

    // Recover one last time and check every ack.
    const { child, url } = await startChild(dataDir);
    live = child;
    const nc = await connect({ servers: url });
    const jsm = await jetstreamManager(nc);
    assert.ok(acked.size > 0, 'some publishes were acked');
    await verifyAll(jsm, acked, 'after the last kill');
    const info = await jsm.streams.info('CRASH');
    // The recovered stream still takes writes.
    const after = await jetstream(nc).publish('crash.after', 'ok');
    assert.ok(after.seq > info.state.last_seq);
    await nc.close();
    await kill(child);
    t.diagnostic(`acked ${acked.size} of ${totalAttempts} attempts over ${ROUNDS} kills, verified after each`);
  } finally {
    if (live !== null) await kill(live);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
