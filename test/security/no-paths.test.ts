/**
 * A client never learns the server's file paths (second security review): a stream whose name
 * the file system refuses (a NUL byte) gets nats-server's own `error creating store for stream`,
 * compared byte for byte with nats-server 2.9.10.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { startHerald, startReferenceNats, type Target } from './helpers.js';

async function createNul(t: Target): Promise<string> {
  const nc = await connect({ servers: t.url });
  try {
    const name = 'a\u0000b';
    const r = await nc.request(`$JS.API.STREAM.CREATE.${name}`, JSON.stringify({ name, subjects: ['nul.x'] }), { timeout: 5000 });
    return new TextDecoder().decode(r.data);
  } finally {
    await nc.close();
  }
}

test('STREAM.CREATE that the file system refuses answers without a path, as nats-server', async () => {
  const seen: string[] = [];
  for (const start of [startHerald, startReferenceNats]) {
    const t = await start('', { jetstream: true });
    try {
      seen.push(await createNul(t));
    } finally {
      await t.stop();
    }
  }
  assert.doesNotMatch(seen[0]!, /\/tmp|jetstream\/streams/, 'a server path reached the client');
  assert.equal(seen[0], seen[1]);
});
