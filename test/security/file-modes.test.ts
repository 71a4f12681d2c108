/**
 * Stored data is not readable by other local users (second security review, R2-6): every
 * directory and file herald creates under its data directory has no "other" permission bits,
 * as nats-server's 0750/0640 — whatever the (usual 022) umask of the process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Server, silentLogger } from '../../src/index.js';

/** Every path under `root` (root included) whose mode grants anything to others. */
function openToOthers(root: string): string[] {
  const bad: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p);
    if ((st.mode & 0o007) !== 0) bad.push(`${p} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(root);
  return bad;
}

test('streams, consumers, indexes and the Redis keyspace log are created 0750/0640', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'herald-modes-'));
  const dataDir = join(parent, 'data');
  const old = process.umask(0o022);
  try {
    const s = await Server.start({ port: 0, redisPort: 0, redisStore: 'file', jetstream: true, dataDir, logger: silentLogger() });
    try {
      const nc = await connect({ port: s.port });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'M', subjects: ['m.>'] });
      await jsm.consumers.add('M', { durable_name: 'd', ack_policy: AckPolicy.Explicit });
      const js = jetstream(nc);
      for (let i = 0; i < 20; i++) await js.publish(`m.${i}`, 'x');
      const c = await js.consumers.get('M', 'd');
      const m = await c.next({ expires: 2000 });
      assert.ok(m !== null, 'no message from the durable consumer');
      m.ack();
      await nc.flush();
      await nc.close();
      const r = new Redis({ port: s.redis!.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      await r.xadd('orders', '*', 'a', '1');
      r.disconnect();
    } finally {
      await s.close();
    }
    const files = readdirSync(dataDir, { recursive: true }) as string[];
    assert.ok(files.length > 4, `too few files to judge: ${JSON.stringify(files)}`);
    assert.deepEqual(openToOthers(dataDir), [], 'stored data readable by other users');
  } finally {
    process.umask(old);
    rmSync(parent, { recursive: true, force: true });
  }
});
