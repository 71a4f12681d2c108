// Graceful shutdown (SIGTERM/SIGINT) of a child herald with real clients: publishes are in flight
// when the signal lands; the process exits 0; after a restart on the same store every publish that
// was acknowledged is there, and the durable consumer's acknowledged position survived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { startHeraldChild } from '../helpers/herald-child.js';
import { within } from '../helpers/bounded.js';

const WAIT_MS = 20_000;
/** Publishes started before the signal; some are acknowledged, some may be cut off. */
const IN_FLIGHT = 2000;
const ACKED_BY_CONSUMER = 50;

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: acknowledged messages and consumer acks survive, exit 0`, async () => {
    const store = mkdtempSync(join(tmpdir(), 'herald-shutdown-'));
    const conf = `jetstream { store_dir: ${JSON.stringify(store)} }`;
    let h = await startHeraldChild(conf);
    try {
      let nc = await connect({ servers: h.url, reconnect: false });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'S', subjects: ['s.>'] });
      await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
      const js = jetstream(nc);
      for (let i = 0; i < ACKED_BY_CONSUMER; i++) await js.publish('s.a', String(i));
      const c = await js.consumers.get('S', 'D');
      const batch = await c.fetch({ max_messages: ACKED_BY_CONSUMER, expires: 5000 });
      let n = 0;
      for await (const m of batch) {
        await m.ackAck();
        if (++n === ACKED_BY_CONSUMER) break;
      }
      assert.equal(n, ACKED_BY_CONSUMER);

      const acked: number[] = [];
      const pubs = Array.from({ length: IN_FLIGHT }, (_, i) =>
        js.publish('s.b', String(i), { timeout: 5000 }).then(
          (a) => void acked.push(a.seq),
          () => undefined,
        ),
      );
      // Let some of them land, then stop the server under them.
      while (acked.length < 10) await new Promise((r) => setTimeout(r, 1));
      process.kill(h.pid, signal);
      await within(Promise.all(pubs), WAIT_MS, 'every in-flight publish settles');
      assert.equal(await within(h.exited, WAIT_MS, 'the server exits'), 0, `exit status 0; log:\n${h.stderr()}`);
      assert.match(h.stderr(), /herald stopped/);
      await nc.close().catch(() => undefined);
      console.log(`# ${signal}: ${acked.length} of ${IN_FLIGHT} in-flight publishes acknowledged before the shutdown`);

      h = await startHeraldChild(conf);
      nc = await connect({ servers: h.url });
      const jsm2 = await jetstreamManager(nc);
      const si = await jsm2.streams.info('S');
      const maxAcked = Math.max(...acked);
      assert.ok(si.state.last_seq >= maxAcked, `stream holds up to seq ${si.state.last_seq}, acked up to ${maxAcked}`);
      for (const seq of acked) {
        const m = await jsm2.streams.getMessage('S', { seq });
        assert.equal(m?.subject, 's.b', `acknowledged seq ${seq} is stored`);
      }
      const ci = await jsm2.consumers.info('S', 'D');
      assert.equal(ci.ack_floor.stream_seq, ACKED_BY_CONSUMER, 'the consumer ack floor survived');
      await nc.close();
    } finally {
      await h.stop();
      rmSync(store, { recursive: true, force: true });
    }
  });
}
