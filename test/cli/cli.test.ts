// The `herald` program: --help, --version, actionable start-up errors, exit statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Server } from '../../src/index.js';

const BIN = resolve(import.meta.dirname, '../../../bin/herald.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });

test('--help and --version', () => {
  const h = run(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--port/);
  assert.match(h.stdout, /--http-port/);
  assert.match(h.stdout, /--data/);
  const v = run(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^herald \d+\.\d+\.\d+/);
});

test('a port already in use names the port and the flag to change it', async () => {
  const busy = await Server.start({ port: 0, jetstream: false, logLevel: 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
  try {
    const r = run(['serve', '--port', String(busy.port), '--http-port', 'off', '--data', dir, '--log-level', 'error']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`port ${busy.port} is already in use`));
    assert.match(r.stderr, /--port/);
  } finally {
    await busy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad flag value names the value and what is allowed', () => {
  const r = run(['serve', '--port', 'abc']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--port/);
  assert.match(r.stderr, /abc/);
  const u = run(['serve', '--prot', '4222']);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /--prot/);
});

test('embedded: bad options are refused with a ConfigError', async () => {
  await assert.rejects(Server.start({ port: 0, maxPayload: -5, jetstream: false, logLevel: 'silent' }), /maxPayload/);
});

test('a Redis port is served when asked for (the Redis door, docs/redis.md; test/resp/serve.test.ts)', async () => {
  const s = await Server.start({ port: 0, jetstream: false, redisPort: 0, logLevel: 'silent' });
  try {
    assert.match(s.redisUrl ?? '', /^redis:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await s.close();
  }
  const help = run(['--help']);
  assert.match(help.stdout.split('\n').slice(0, 4).join('\n'), /Redis protocol/);
});
