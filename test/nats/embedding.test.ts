// The embedding API: Server.start/close inside one Node process (README "Run it inside your program").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Server } from '../../src/index.js';

test('two servers in one process share nothing', async () => {
  const dirA = mkdtempSync(join(tmpdir(), 'herald-emb-'));
  const dirB = mkdtempSync(join(tmpdir(), 'herald-emb-'));
  const a = await Server.start({ port: 0, dataDir: dirA, logLevel: 'silent' });
  const b = await Server.start({ port: 0, dataDir: dirB, logLevel: 'silent' });
  try {
    assert.notEqual(a.port, b.port);
    assert.notEqual(a.serverId, b.serverId);
    const na = await connect({ servers: a.url });
    const nb = await connect({ servers: b.url });
    let crossed = 0;
    nb.subscribe('shared.subject', { callback: () => void crossed++ });
    const got: string[] = [];
    na.subscribe('shared.subject', { callback: (_e, m) => void got.push(m.string()) });
    await na.flush();
    await nb.flush();
    na.publish('shared.subject', 'only-a');
    await na.flush();
    await nb.flush();
    assert.deepEqual(got, ['only-a']);
    assert.equal(crossed, 0);
    // Streams are per server too.
    await (await jetstreamManager(na)).streams.add({ name: 'ONLY_A', subjects: ['only.a'] });
    const namesB = await (await jetstreamManager(nb)).streams.names().next();
    assert.deepEqual(namesB, []);
    await na.close();
    await nb.close();
  } finally {
    await a.close();
    await b.close();
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
});

test('close() flushes what was queued, closes clients, and can be awaited twice', async () => {
  const s = await Server.start({ port: 0, jetstream: false, logLevel: 'silent' });
  const nc = await connect({ servers: s.url, reconnect: false });
  const got: number[] = [];
  nc.subscribe('c.t', { callback: (_e, m) => void got.push(Number(m.string())) });
  await nc.flush();
  const pub = await connect({ servers: s.url, reconnect: false });
  for (let i = 0; i < 100; i++) pub.publish('c.t', String(i));
  await pub.flush();
  const closed = nc.closed();
  await Promise.all([s.close(), s.close()]);
  await closed;
  assert.equal(got.length, 100);
  assert.deepEqual(got.slice(0, 3), [0, 1, 2]);
});
