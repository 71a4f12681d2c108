// The differential reference and the bench's peers must be the real servers (issue 13, parts 1–2):
// herald's drop-in shim (bin/shim/nats-server) answers `--version` and INFO like a nats-server, and
// a reference that is secretly herald turns every differential test into herald-vs-herald. These
// tests run the shim and herald themselves and check that every lookup and start path rejects them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Server } from '../../src/index.js';
import * as bench from '../../src/bench/servers.js';
import { natsServerAvailable, startNatsServer } from '../helpers/nats-server.js';
import { redisServerAvailable, startRedisServer } from '../helpers/redis-server.js';

const SHIM = resolve(import.meta.dirname, '../../../bin/shim/nats-server');
/** Each test starts at most a couple of servers. */
const TEST_TIMEOUT_MS = 30_000;

const haveNats = bench.findPeer('nats-server') !== null;
const haveRedis = bench.findPeer('redis-server') !== null;

/** Runs `fn` with environment variables set, restoring them after. */
async function withEnv<T>(vars: Record<string, string>, fn: () => T | Promise<T>): Promise<T> {
  const old = new Map(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of old) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function greeting(port: number): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const s = net.connect(port, '127.0.0.1');
    s.setEncoding('utf8');
    s.once('error', rej);
    s.once('data', (d: string) => {
      s.destroy();
      res(JSON.parse(d.slice(5, d.indexOf('\r\n'))) as Record<string, unknown>);
    });
  });
}

test(
  "the shim's --version is herald's; the real binary's is nats-server's",
  { skip: haveNats ? false : 'nats-server not installed' },
  () => {
    const shim = bench.serverVersion(SHIM);
    assert.ok(shim !== null, 'the shim runs (dist is built)');
    assert.match(bench.versionProblem('nats-server', shim) ?? '', /herald/);
    const real = bench.findPeer('nats-server')!;
    assert.equal(bench.versionProblem('nats-server', real.version), null);
    assert.match(bench.versionNumber('nats-server', real.version) ?? '', /^\d+\.\d+\.\d+/);
    assert.match(bench.versionProblem('nats-server', 'something else 1.0') ?? '', /not what nats-server prints/);
    assert.match(bench.versionProblem('redis-server', 'Redis server v=7.0.15 sha=0 (herald)') ?? '', /herald/);
  },
);

test(
  "herald's INFO greeting is rejected as a reference; nats-server's is accepted",
  { timeout: TEST_TIMEOUT_MS, skip: haveNats ? false : 'nats-server not installed' },
  async () => {
    const h = await Server.start({ port: 0, jetstream: false, logLevel: 'silent' });
    try {
      const info = await greeting(h.port);
      assert.match(bench.natsInfoProblem(info, null) ?? '', /herald/);
    } finally {
      await h.close();
    }
    const ns = await startNatsServer();
    try {
      assert.match(String(ns.info['go']), /^go\d/);
      assert.equal(bench.natsInfoProblem(ns.info, null), null);
      assert.match(
        bench.natsInfoProblem({ ...ns.info, go: 'go1.21', version: '9.9.9' }, String(ns.info['version'])) ?? '',
        /differs/,
      );
    } finally {
      await ns.stop();
    }
  },
);

test(
  'NATS_SERVER_BIN pointing at the shim fails loudly instead of comparing herald with herald',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    await withEnv({ NATS_SERVER_BIN: SHIM }, async () => {
      assert.throws(() => natsServerAvailable(), /no real nats-server found[\s\S]*herald/);
      await assert.rejects(startNatsServer(), /no real nats-server found/);
      assert.throws(() => bench.findBinary('nats-server'), /no real nats-server found/);
    });
    // The bench's own launcher refuses it too, before starting anything.
    await assert.rejects(bench.startNatsServer(SHIM), /is not nats-server: .*herald/);
  },
);

test(
  'the shim first on PATH (as the README suggests) is skipped for the real binary',
  { skip: haveNats ? false : 'nats-server not installed' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-shimpath-'));
    try {
      mkdirSync(join(dir, 'bin'));
      symlinkSync(SHIM, join(dir, 'bin', 'nats-server'));
      await withEnv({ PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`, NATS_SERVER_BIN: '' }, () => {
        const p = bench.findPeer('nats-server');
        assert.ok(p !== null);
        assert.notEqual(p.path, join(dir, 'bin', 'nats-server'));
        assert.equal(bench.versionProblem('nats-server', p.version), null);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'redis-server: the reference says redis_version and is not herald',
  { timeout: TEST_TIMEOUT_MS, skip: haveRedis ? false : 'redis-server not installed' },
  async () => {
    assert.equal(redisServerAvailable(), true);
    const r = await startRedisServer();
    try {
      const info = await bench.redisInfoServer(r.url);
      assert.equal(bench.redisInfoProblem(info, r.version), null);
      assert.match(bench.redisInfoProblem(`${info}\r\nherald_version:0.1.0`, null) ?? '', /herald/);
      assert.match(bench.redisInfoProblem('# Server\r\nfoo:1', null) ?? '', /no redis_version/);
    } finally {
      await r.stop();
    }
    await withEnv({ REDIS_SERVER_BIN: SHIM }, async () => {
      assert.throws(() => redisServerAvailable(), /no real redis-server found/);
      await assert.rejects(startRedisServer(), /no real redis-server found/);
    });
    await assert.rejects(bench.startRedisServer(SHIM), /is not redis-server/);
  },
);

test('a shim that lies in --version is still caught by its INFO greeting', { timeout: TEST_TIMEOUT_MS }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-liar-'));
  const liar = join(dir, 'nats-server');
  writeFileSync(
    liar,
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "nats-server: v2.10.24"; exit 0; fi\nexec ${process.execPath} ${SHIM} "$@"\n`,
  );
  chmodSync(liar, 0o755);
  try {
    await withEnv({ NATS_SERVER_BIN: liar }, async () => {
      assert.equal(natsServerAvailable(), true, '--version alone passes');
      await assert.rejects(startNatsServer(), /is not nats-server: INFO says go="herald/);
    });
    await assert.rejects(bench.startNatsServer(liar), /is not nats-server: INFO says go="herald/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
