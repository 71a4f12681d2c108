// Appends waiting for durability are bounded (MAX_PENDING_COMPLETIONS): duplicates add no bytes to
// the store's write backlog, so while a sync stalls only this bound stops them queueing. Found by
// an independent review; fdatasync is stalled by replacing it for the duration of the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/log.js';
import { checkStreamConfig, type StreamConfig } from '../../src/stream/config.js';
import { MAX_PENDING_COMPLETIONS, NO_EXPECTATIONS } from '../../src/stream/stream.js';
import { Streams, type StreamCodec } from '../../src/stream/streams.js';

const CODEC: StreamCodec = {
  msgId: () => '',
  configToMeta: (cfg) => ({ ...cfg }),
  configFromMeta: (stored) => stored,
  reserved: [],
  timeToMeta: (ns) => ns.toString(),
  timeFromMeta: (text) => (/^\d+$/.test(text) ? BigInt(text) : null),
};

test('appends waiting behind a stalled sync are bounded; past the bound they are refused at once', async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'herald-dup-'));
  const all = await Streams.start({
    storeDir: dir,
    maxFileStore: -1,
    maxMemStore: -1,
    sync: { kind: 'always' },
    logger: silentLogger(),
    codec: CODEC,
  });
  const r = checkStreamConfig({ name: 'D', subjects: ['d'], storage: 'file' }, false);
  const s = await all.createStream(r.cfg as StreamConfig);
  const realSync = fs.fdatasync;
  let release: (() => void) | null = null;
  // The disk stalls: fdatasync does not return until the test lets it.
  (fs as { fdatasync: unknown }).fdatasync = (fd: number, cb: (e: Error | null) => void) => {
    release = () => realSync(fd, cb);
  };
  syncBuiltinESMExports();
  try {
    let completed = 0;
    let refused = 0;
    const onDone = (_c: unknown, err: { kind: string } | null): void => {
      if (err === null) completed++;
      else if (err.kind === 'insufficient-resources') refused++;
      else throw new Error(`unexpected refusal ${err.kind}`);
    };
    s.append('d', null, Buffer.from('x'), { ...NO_EXPECTATIONS, msgId: 'same' }, null, onDone);
    const stuck = Date.now() + 10_000;
    while (release === null && Date.now() < stuck) await new Promise((res) => setTimeout(res, 10));
    assert.ok(release !== null, 'the first batch never reached fdatasync');
    const EXTRA = 1000;
    for (let i = 0; i < MAX_PENDING_COMPLETIONS + EXTRA; i++) {
      s.append('d', null, Buffer.from('x'), { ...NO_EXPECTATIONS, msgId: 'same' }, null, onDone);
    }
    assert.equal(completed, 0, 'nothing completes while the sync is stalled');
    assert.equal(refused, EXTRA + 1, 'every append past the bound is refused at once');
  } finally {
    (fs as { fdatasync: unknown }).fdatasync = realSync;
    syncBuiltinESMExports();
    (release as (() => void) | null)?.();
    await all.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
