// `herald serve` wiring of the Redis door: on by default at 6379 (options), served on the port
// asked for, a busy port fails as clearly as the NATS port, off in nats-server mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { parseCommandLine } from '../../src/cli/args.js';
import { defaultOptions } from '../../src/config/defaults.js';

const BIN = resolve(import.meta.dirname, '../../../bin/herald.js');

test('the Redis door is on at 6379 for herald serve and off for nats-server and --redis-port off', () => {
  assert.equal(defaultOptions('herald').redisPort, 6379);
  assert.equal(defaultOptions('nats-server').redisPort, null);
  assert.equal(parseCommandLine(['serve'], 'herald').options.redisPort, 6379);
  assert.equal(parseCommandLine(['serve', '--redis-port', 'off'], 'herald').options.redisPort, null);
});

test('a busy Redis port names the port and --redis-port', async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as net.AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'herald-redis-cli-'));
  try {
    const r = spawnSync(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--http-port', 'off', '--redis-port', String(port), '--data', dir, '--log-level', 'error'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`port ${port} is already in use`));
    assert.match(r.stderr, /--redis-port/);
  } finally {
    busy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('herald serve --redis-port 0 serves Redis clients', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-redis-serve-'));
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--http-port', 'off', '--redis-port', '0', '--data', dir, '--log-format', 'json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`no ready line within 15 s: ${out}`)), 15_000);
      const onData = (d: Buffer): void => {
        out += d.toString();
        const m = /"redis":"(redis:\/\/[^"]+)"/.exec(out);
        if (m !== null) {
          clearTimeout(t);
          resolveUrl(m[1]);
        }
      };
      // The log goes to stderr or stdout depending on the logger's setup: read both.
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    const client = new Redis(url);
    try {
      assert.equal(await client.ping(), 'PONG');
      assert.match(await client.info('server'), /redis_mode:standalone/);
    } finally {
      client.disconnect();
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
