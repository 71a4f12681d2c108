// Crash safety of acknowledged publishes (DESIGN.md "Durability, stated honestly"): herald runs
// in a child process, clients publish concurrently and record every ack, the child is killed
// with SIGKILL at a random moment, restarted on the same data dir, and every acked message must
// be there, byte for byte, under the seq its ack named. Bounded iterations; no timing asserts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { kill, startChild } from './child.js';
import { tmpDir } from './helpers.js';

/** Kill-and-recover rounds. */
const ROUNDS = 6;
/** Concurrent publishers per round. */
const PUBLISHERS = 8;

test('every acked publish survives SIGKILL at random moments', { timeout: 120_000 }, async (t) => {
  const dataDir = tmpDir('herald-crash-');
  const acked = new Map<number, string>(); // seq → payload (hex)
  let totalAttempts = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const { child, url } = await startChild(dataDir);
      const nc: NatsConnection = await connect({ servers: url, reconnect: false });
      const jsm = await jetstreamManager(nc);
      if (round === 0) await jsm.streams.add({ name: 'CRASH', subjects: ['crash.>'], storage: StorageType.File });
      const js = jetstream(nc);
      let stop = false;
      const workers = Array.from({ length: PUBLISHERS }, async (_, w) => {
        let i = 0;
        while (!stop) {
          const payload = randomBytes(16 + ((w * 131 + i * 17) % 900));
          totalAttempts++;
          try {
            const ack = await js.publish(`crash.${w}`, payload, { msgID: `${round}-${w}-${i}`, timeout: 2000 });
            if (!ack.duplicate) acked.set(ack.seq, payload.toString('hex'));
          } catch {
            // Connection lost with the process: this publish was never acked.
            return;
          }
          i++;
        }
      });
      await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 200)));
      await kill(child);
      stop = true;
      await Promise.allSettled(workers);
      await nc.close().catch(() => undefined);
    }

    // Recover one last time and check every ack.
    const { child, url } = await startChild(dataDir);
    const nc = await connect({ servers: url });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('CRASH');
    assert.ok(acked.size > 0, 'some publishes were acked');
    let checked = 0;
    for (const [seq, hex] of acked) {
      const m = await jsm.streams.getMessage('CRASH', { seq });
      assert.notEqual(m, null, `acked seq ${seq} is missing after crash recovery`);
      assert.equal(Buffer.from(m!.data).toString('hex'), hex, `acked seq ${seq} changed`);
      checked++;
    }
    assert.equal(checked, acked.size);
    assert.ok(info.state.last_seq >= Math.max(...acked.keys()));
    // The recovered stream still takes writes.
    const after = await jetstream(nc).publish('crash.after', 'ok');
    assert.ok(after.seq > info.state.last_seq);
    await nc.close();
    await kill(child);
    t.diagnostic(`acked ${acked.size} of ${totalAttempts} attempts over ${ROUNDS} kills`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
