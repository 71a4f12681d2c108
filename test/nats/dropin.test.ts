// herald as a drop-in for the `nats-server` binary (specs/nats.md §8): a harness spawns the literal
// command `nats-server -c <conf>` found on PATH, waits for `<ports_file_dir>/nats-server_<pid>.ports`
// and connects to the URLs in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';

const SHIM_DIR = resolve(import.meta.dirname, '../../../bin/shim');
/** How long the harness waits for the ports file (the nats.js v3 launcher allows 5 s). */
const PORTS_WAIT_MS = 5000;

async function waitFor<T>(fn: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('nats-server -c conf with port -1 and ports_file_dir, as the nats.js launcher writes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-dropin-'));
  const conf = join(dir, 'nats-server.conf');
  writeFileSync(
    conf,
    [
      'host: 127.0.0.1',
      'port: -1',
      'http: 127.0.0.1:-1',
      'leafnodes { listen: 127.0.0.1:-1 }',
      'server_tags: ["a","b"]',
      'websocket { port: -1, no_tls: true }',
      `ports_file_dir: ${JSON.stringify(dir)}`,
      `jetstream { max_file_store: 1048576, max_mem_store: 1048576, store_dir: ${JSON.stringify(join(dir, 'js'))} }`,
    ].join('\n'),
  );
  const t0 = Date.now();
  const child = spawn('nats-server', ['-c', conf], {
    env: { ...process.env, PATH: `${SHIM_DIR}:${process.env.PATH}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    const portsFile = join(dir, `nats-server_${child.pid}.ports`);
    const ports = await waitFor(
      () =>
        existsSync(portsFile)
          ? (JSON.parse(readFileSync(portsFile, 'utf8')) as { nats: string[]; monitoring: string[] })
          : undefined,
      PORTS_WAIT_MS,
    );
    const startMs = Date.now() - t0;
    console.log(`# drop-in start-up to ports file: ${startMs} ms`);
    assert.match(ports.nats[0], /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.match(ports.monitoring[0], /^http:\/\/127\.0\.0\.1:\d+$/);
    const nc = await connect({ servers: ports.nats[0] });
    assert.equal(nc.info?.jetstream, true);
    const varz = (await (await fetch(`${ports.monitoring[0]}/varz`)).json()) as {
      server_id: string;
      version: string;
      connect_urls: unknown[];
    };
    assert.equal(varz.server_id, nc.info?.server_id);
    assert.deepEqual(varz.connect_urls, []);
    const jsz = (await (await fetch(`${ports.monitoring[0]}/jsz`)).json()) as { config: { store_dir: string } };
    assert.equal(jsz.config.store_dir, join(dir, 'js', 'jetstream'));
    await nc.close();
    assert.match(stderr, /leafnodes/); // unknown blocks are reported, not fatal
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the nats-server command line: -a -p -m -js -sd, and a clear error for a bad flag', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-dropin-'));
  const env = { ...process.env, PATH: `${SHIM_DIR}:${process.env.PATH}` };
  const bad = spawn('nats-server', ['--no-such-flag'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  bad.stderr!.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => bad.once('exit', r));
  assert.notEqual(code, 0);
  assert.match(err, /no-such-flag/);

  const child = spawn(
    'nats-server',
    ['-a', '127.0.0.1', '-p', '-1', '-m', '-1', '-js', '-sd', join(dir, 'sd'), '--ports_file_dir', dir],
    {
      env,
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  try {
    const portsFile = join(dir, `nats-server_${child.pid}.ports`);
    const ports = await waitFor(
      () => (existsSync(portsFile) ? (JSON.parse(readFileSync(portsFile, 'utf8')) as { nats: string[] }) : undefined),
      PORTS_WAIT_MS,
    );
    const nc = await connect({ servers: ports.nats[0] });
    assert.equal(nc.info?.jetstream, true);
    await nc.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Generous bound on a plain drop-in's start-up (no JetStream, no monitoring: what most nats.node
 * tests start). The nats.js v2 launcher gives a server 1 s to write its ports file while ava
 * starts every test of a file at once; twice that keeps a loaded machine from flaking while still
 * catching a start-up that loads everything (it measured ~300 ms on a quiet machine). When the
 * machine is so loaded that a bare `node -e ''` is slow, the bound is that many times the bare run.
 */
const STARTUP_BOUND_MS = 2000;
const STARTUP_BOUND_TIMES_BARE_NODE = 5;

/** Milliseconds for a bare Node process to start and exit: the machine's load, measured. */
async function bareNodeMs(): Promise<number> {
  const t0 = performance.now();
  const c = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => c.once('exit', r));
  return performance.now() - t0;
}

test('a plain drop-in writes its ports file quickly (time printed)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-dropin-'));
  const conf = join(dir, 'nats-server.conf');
  writeFileSync(conf, ['host: 127.0.0.1', 'port: -1', `ports_file_dir: ${JSON.stringify(dir)}`].join('\n'));
  const bare = await bareNodeMs();
  const t0 = performance.now();
  const child = spawn('nats-server', ['-c', conf], {
    env: { ...process.env, PATH: `${SHIM_DIR}:${process.env.PATH}` },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  try {
    const portsFile = join(dir, `nats-server_${child.pid}.ports`);
    await waitFor(() => (existsSync(portsFile) ? true : undefined), PORTS_WAIT_MS);
    const ms = Math.round(performance.now() - t0);
    const bound = Math.max(STARTUP_BOUND_MS, Math.round(bare * STARTUP_BOUND_TIMES_BARE_NODE));
    console.log(`# plain drop-in start-up to ports file: ${ms} ms (bare node start+exit ${Math.round(bare)} ms; bound ${bound} ms)`);
    assert.ok(ms < bound, `the drop-in took ${ms} ms to write its ports file (bound ${bound} ms)`);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
