// The data directory belongs to one server at a time, by a lock that dies with its holder:
// a restart right after SIGKILL finds every stream; a second server on the same directory exits
// non-zero naming the directory and the holder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Server, silentLogger } from '../../src/index.js';
import { DirLockError, lockDirectory } from '../../src/store/dir-lock.js';

const BIN = resolve(import.meta.dirname, '../../../bin/herald.js');
/** How long a child herald may take to write its ports file, and a second one to give up. */
const START_TIMEOUT_MS = 20_000;
const STREAMS = ['ALPHA', 'BETA', 'GAMMA'];

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts `herald serve` on random ports with JetStream in `data`; resolves with its NATS URL once it wrote its ports file. */
async function startChild(
  data: string,
  keepZombie = false,
): Promise<{ child: ChildProcess; url: string; pid: () => number; stderr: () => string }> {
  const portsDir = tempDir('herald-ports-');
  const args = [
    BIN,
    'serve',
    '--port',
    '0',
    '--http-port',
    'off',
    '--data',
    data,
    '--ports-file-dir',
    portsDir,
    '--log-level',
    'warn',
  ];
  // keepZombie: herald runs under a shell that execs `sleep`, which never reaps it, so once killed
  // it stays a zombie (its pid still "alive" to kill(pid, 0)) for as long as the sleep runs.
  const quoted = [process.execPath, ...args].map((a) => `'${a}'`).join(' ');
  const child = keepZombie
    ? spawn('sh', ['-c', `${quoted} & echo $!; exec sleep 120`], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(
        process.execPath,
        [BIN, 'serve', '--port', '0', '--http-port', 'off', '--data', data, '--ports-file-dir', portsDir, '--log-level', 'warn'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (stderr += s));
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (s: string) => (stdout += s));
  const pid = (): number => (keepZombie ? Number(stdout.trim()) : child.pid!);
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    while (Date.now() < deadline && child.exitCode === null) {
      const file = readdirSync(portsDir).find((f) => f.endsWith('.ports'));
      if (file !== undefined) {
        const ports = JSON.parse(readFileSync(join(portsDir, file), 'utf8')) as { nats: string[] };
        return { child, url: ports.nats[0], pid, stderr: () => stderr };
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    rmSync(portsDir, { recursive: true, force: true });
  }
  child.kill('SIGKILL');
  throw new Error(`herald did not start within ${START_TIMEOUT_MS} ms (exit ${child.exitCode}): ${stderr}`);
}

test('a second lock on a directory names the holder; release frees it', async () => {
  const dir = tempDir('herald-lock-');
  try {
    const a = await lockDirectory(dir, { waitMs: 0 });
    await assert.rejects(lockDirectory(dir, { waitMs: 100, what: 'data directory' }), (err: unknown) => {
      assert.ok(err instanceof DirLockError);
      assert.equal(err.holderPid, process.pid);
      assert.match(err.message, /^data directory .* is in use by process \d+/);
      assert.ok(err.message.includes(a.dir), err.message);
      return true;
    });
    await a.release();
    const b = await lockDirectory(dir, { waitMs: 0 });
    await b.release();
    assert.equal(existsSync(join(dir, '.herald.lock')), false, 'nothing is left on disk (Linux)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('restart at once after SIGKILL: every stream is back', async () => {
  const data = tempDir('herald-kill-');
  let second: ChildProcess | null = null;
  try {
    const first = await startChild(data, true);
    const nc = await connect({ servers: first.url });
    const jsm = await jetstreamManager(nc);
    for (const name of STREAMS) {
      await jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`] });
      await nc.request(`${name.toLowerCase()}.x`, 'kept');
    }
    await nc.close();
    const pid = first.pid();
    process.kill(pid, 'SIGKILL');
    // The killed herald is now a zombie: its pid still exists, unreaped, while the next one starts.
    const again = await startChild(data);
    second = again.child;
    assert.doesNotThrow(() => process.kill(pid, 0), 'the killed herald is still a zombie');
    first.child.kill('SIGKILL');
    const nc2 = await connect({ servers: again.url });
    const jsm2 = await jetstreamManager(nc2);
    const names: string[] = [];
    for await (const n of jsm2.streams.names()) names.push(n);
    assert.deepEqual(names.sort(), STREAMS, `streams after restart (stderr: ${again.stderr()})`);
    for (const name of STREAMS) assert.equal((await jsm2.streams.info(name)).state.messages, 1, name);
    await nc2.close();
    assert.doesNotMatch(again.stderr(), /could not be recovered/);
  } finally {
    second?.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  }
});

test('a second server on the same data directory exits non-zero naming the directory and the holder', async () => {
  const data = tempDir('herald-two-');
  const holder = await Server.start({ port: 0, dataDir: data, logger: silentLogger() });
  try {
    // Asynchronously: the holder (this process) must be free to tell the newcomer its pid.
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--http-port', 'off', '--data', data, '--log-level', 'error'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
    const status = await new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    clearTimeout(timer);
    const r = { status, stderr };
    assert.equal(r.status, 1, `exit status (stderr: ${r.stderr})`);
    assert.match(r.stderr, new RegExp(`data directory \\S*${data.split('/').pop()} is in use by process ${process.pid}`));
  } finally {
    await holder.close();
    rmSync(data, { recursive: true, force: true });
  }
});
