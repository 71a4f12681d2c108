/**
 * The budgets of issue 12 as a user sees and sets them: `--max-outbound` beside the `max_outbound`
 * conf key, `--max-file-store`, and /jsz and /varz reporting the file budget in force — derived
 * from the data volume's free space when none is configured (nats-server reports its dynamic
 * default the same way), the configured one otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../../src/cli/args.js';
import { Server } from '../../src/index.js';
import { silentLogger } from '../../src/core/log.js';
import { availableBytes } from '../../src/store/disk-space.js';
import { removeDir, tempDir } from '../store/helpers.js';

test('--max-outbound and --max-file-store set the budgets', () => {
  const o = parseCommandLine(['--max-outbound', '64MB', '--max-file-store', '1GB'], 'herald').options;
  assert.equal(o.maxOutbound, 64 * 1024 * 1024);
  assert.equal(o.maxFileStore, 1024 * 1024 * 1024);
  assert.equal(parseCommandLine(['--max-outbound', '-1'], 'herald').options.maxOutbound, -1);
  assert.throws(() => parseCommandLine(['--max-outbound', 'lots'], 'herald'), /--max-outbound/);
});

async function monitored(dataDir: string, maxFileStore?: number): Promise<{ jsz: number; varz: number }> {
  const server = await Server.start({
    port: 0,
    httpPort: 0,
    dataDir,
    logger: silentLogger(),
    ...(maxFileStore === undefined ? {} : { maxFileStore }),
  });
  try {
    const get = async (p: string): Promise<Record<string, any>> =>
      (await fetch(`${server.monitorUrl}${p}`)).json() as Promise<Record<string, any>>;
    return { jsz: (await get('/jsz')).config.max_storage, varz: (await get('/varz')).jetstream.config.max_storage };
  } finally {
    await server.close();
  }
}

test('/jsz and /varz show the derived file budget, or the configured one', async () => {
  const dir = tempDir('budget');
  try {
    const free = availableBytes(dir);
    const derived = await monitored(dir);
    if (free !== null) {
      // 75% of the free space at start (plus nothing stored yet); the volume may move a little meanwhile.
      assert.ok(
        derived.jsz > 0 && Math.abs(derived.jsz - free * 0.75) < free * 0.05,
        `derived budget ${derived.jsz} vs free ${free}`,
      );
    }
    assert.equal(derived.varz, derived.jsz);
    const set = await monitored(dir, 123_456_789);
    assert.deepEqual(set, { jsz: 123_456_789, varz: 123_456_789 });
  } finally {
    removeDir(dir);
  }
});
