/**
 * The server's JetStream budget holds across accounts (nats-server: one max_file_store /
 * max_memory_store for the server). Reservations are checked by review-2 R2-4; this file checks
 * usage: streams without max_bytes in two accounts cannot together store more than the server
 * allows, and what each stored before the limit stays readable.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startHerald, type Target } from './helpers.js';

let h: Target;
before(async () => {
  h = await startHerald(
    `
jetstream { max_file_store: 1MB, max_memory_store: 256KB }
accounts {
  A: { users: [ {user: a, password: a} ], jetstream: enabled }
  B: { users: [ {user: b, password: b} ], jetstream: enabled }
}`,
    { jetstream: true },
  );
});
after(() => h.stop());

/** Publishes 64 KiB messages into a fresh stream of `user`'s account until one is refused; returns how many were acked. */
async function fill(user: string, storage: 'file' | 'memory', cap: number): Promise<number> {
  const nc = await connect({ port: h.port, user, pass: user });
  try {
    const jsm = await jetstreamManager(nc);
    const name = `${storage}_${user}`;
    await jsm.streams.add({ name, subjects: [`${name}.>`], storage: storage === 'file' ? 'file' : 'memory' } as never);
    const js = jetstream(nc);
    const payload = new Uint8Array(64 * 1024);
    let acked = 0;
    for (let i = 0; i < cap; i++) {
      try {
        await js.publish(`${name}.x`, payload);
        acked++;
      } catch {
        break;
      }
    }
    const info = await jsm.streams.info(name);
    assert.equal(info.state.messages, acked, `${name}: acked ${acked} but the stream holds ${info.state.messages}`);
    return acked;
  } finally {
    await nc.close();
  }
}

test('file streams of two accounts together stay inside max_file_store', async () => {
  const a = await fill('a', 'file', 40);
  const b = await fill('b', 'file', 40);
  assert.ok(a >= 8, `account A stored only ${a} × 64 KiB of a 1 MB budget`);
  assert.ok((a + b) * 64 * 1024 <= 1024 * 1024, `A stored ${a} and B ${b} × 64 KiB: more than the server's 1 MB`);
});

test('memory streams of two accounts together stay inside max_memory_store', async () => {
  const a = await fill('a', 'memory', 10);
  const b = await fill('b', 'memory', 10);
  assert.ok(a >= 2, `account A stored only ${a} × 64 KiB of a 256 KB budget`);
  assert.ok((a + b) * 64 * 1024 <= 256 * 1024, `A stored ${a} and B ${b} × 64 KiB: more than the server's 256 KB`);
});

// R2-4 (second security review; fixed by src/stream/server-budget.ts): the server-wide budget (`max_file_store`,
// `max_memory_store`, --max-file-store) was enforced per account, not for the server: each
// JetStream account gets the whole budget (src/server.ts startAccountJetStream → a Streams per
// account; src/stream/streams.ts checkReservation sums only that account's streams), so N
// accounts may reserve N times the disk the operator allowed. nats-server 2.9.10 refuses B's
// stream below with `insufficient storage resources available` (10047), checked by hand.
test('two accounts cannot each reserve 800 KB of a 1 MB server budget', async () => {
  const made: string[] = [];
  for (const u of ['a', 'b']) {
    const nc = await connect({ port: h.port, user: u, pass: u });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: `S${u}`, subjects: [`s${u}.>`], max_bytes: 800 * 1024 }).then(
        () => made.push(u),
        () => undefined,
      );
    } finally {
      await nc.close();
    }
  }
  assert.deepEqual(
    made,
    ['a'],
    `streams reserving 800 KB each were created in accounts ${JSON.stringify(made)} of a 1 MB server budget`,
  );
});
