#!/usr/bin/env node
// Time from spawn to "ready" for herald and the references, as a test harness sees it.
//
//   node bench/startup/startup.mjs [--runs 20] [--only drop-in,serve,nats-server,node]
//                                  [--crowd K] [--root DIR] [--before DIR]
//
// - drop-in:     bin/shim/nats-server -c <conf>, the conf the official nats.node launcher writes
//                (host, port -1, http 127.0.0.1:-1, ports_file_dir); ready = the ports file exists.
// - drop-in-js:  the same with `jetstream: {store_dir}` (the nats.node JetStream tests).
// - serve:       bin/herald.js serve with its defaults (JetStream, Redis door with its file keyspace,
//                monitoring) on random ports and a fresh data dir; ready = ports file.
// - nats-server: the real binary with the drop-in's conf.
// - node:        `node -e 0`; ready = exit. The floor for anything that starts Node.
//
// Kinds run interleaved (one start of each, round after round) so a change in machine load hits
// them alike. Each start is awaited and killed before the next: this measures one start alone.
// `--crowd K` instead starts K servers of a kind at once per round, as ava does when the tests of
// one nats.node file run concurrently, and also counts the starts that missed the nats.node
// launcher's 1 s ports-file deadline. `--root DIR` times another herald checkout (built);
// `--before DIR` adds kind `drop-in-before`, DIR's drop-in, interleaved with this one's. Prints median, min and max per kind, and the load average.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, watch, writeFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** A start that has not written its ports file by then is reported as failed, not waited on. */
const START_DEADLINE_MS = 10_000;

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(flag('--runs', '20'));
const only = flag('--only', `drop-in,${args.includes('--before') ? 'drop-in-before,' : ''}drop-in-js,serve,nats-server,node`).split(',');
const crowd = Number(flag('--crowd', '1'));
const HERALD = flag('--root', ROOT);
const BEFORE = flag('--before', null);
/** The nats.node v2 launcher (test/helpers/launcher.js) waits this long for the ports file. */
const LAUNCHER_DEADLINE_MS = 1000;

const natsServerBin = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(existsSync);

function confFor(dir, jetstream) {
  const lines = [`ports_file_dir: "${dir}"`, 'host: "127.0.0.1"', 'port: -1', 'http: "127.0.0.1:-1"'];
  if (jetstream) lines.push(`jetstream: { store_dir: "${join(dir, 'js')}" }`);
  const file = join(dir, 'server.conf');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const KINDS = {
  'drop-in': (dir) => ({ cmd: join(HERALD, 'bin/shim/nats-server'), argv: ['-c', confFor(dir, false)], ports: true }),
  'drop-in-before': (dir) =>
    BEFORE === null ? null : { cmd: join(BEFORE, 'bin/shim/nats-server'), argv: ['-c', confFor(dir, false)], ports: true },
  'drop-in-js': (dir) => ({ cmd: join(HERALD, 'bin/shim/nats-server'), argv: ['-c', confFor(dir, true)], ports: true }),
  serve: (dir) => ({
    cmd: process.execPath,
    argv: [join(HERALD, 'bin/herald.js'), 'serve', '-p', '0', '--http-port', '0', '--redis-port', '0', '--data', join(dir, 'data'), '--ports-file-dir', dir],
    ports: true,
  }),
  'nats-server': (dir) => (natsServerBin ? { cmd: natsServerBin, argv: ['-c', confFor(dir, false)], ports: true } : null),
  node: () => ({ cmd: process.execPath, argv: ['-e', '0'], ports: false }),
};

/** One start: resolves with milliseconds from spawn to ready (ports file renamed in, or exit). */
function startOnce(kind) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-startup-'));
  const spec = KINDS[kind](dir);
  if (spec === null) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    let done = false;
    let child;
    const t0 = process.hrtime.bigint();
    const finish = (err) => {
      if (done) return;
      done = true;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      watcher?.close();
      const cleanup = () => rmSync(dir, { recursive: true, force: true });
      if (child.exitCode === null && child.signalCode === null) {
        child.once('exit', cleanup);
        child.kill('SIGKILL');
      } else cleanup();
      if (err) reject(err);
      else resolve(ms);
    };
    // inotify, not polling: a polling loop would steal CPU from the server being timed.
    const watcher = spec.ports
      ? watch(dir, (_ev, name) => {
          if (name !== null && name.endsWith('.ports') && existsSync(join(dir, name))) finish();
        })
      : null;
    const timer = setTimeout(() => finish(new Error(`${kind}: no ports file after ${START_DEADLINE_MS} ms`)), START_DEADLINE_MS);
    let stderr = '';
    child = spawn(spec.cmd, spec.argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', (e) => finish(e));
    child.on('exit', (code) => {
      if (!spec.ports && code === 0) finish();
      else if (!done) finish(new Error(`${kind} exited (${code}) before it was ready: ${stderr.slice(0, 500)}`));
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const kinds = only.filter((k) => k in KINDS);
const times = Object.fromEntries(kinds.map((k) => [k, []]));
const loadBefore = loadavg()[0];
for (let r = 0; r < runs; r++) {
  for (const k of kinds) {
    const all = await Promise.all(Array.from({ length: crowd }, () => startOnce(k)));
    for (const ms of all) if (ms !== null) times[k].push(ms);
  }
}
const loadAfter = loadavg()[0];
console.log(`# start-up to ready, ${runs} rounds of ${crowd} at once per kind, interleaved; herald ${HERALD}; node ${process.version}, ${cpus().length} cpus, load ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`);
console.log(`| kind | median ms | min | max | over ${LAUNCHER_DEADLINE_MS} ms |`);
console.log('|---|---|---|---|---|');
for (const k of kinds) {
  const t = times[k];
  if (t.length === 0) {
    console.log(`| ${k} | (not installed) | | | |`);
    continue;
  }
  const late = t.filter((ms) => ms > LAUNCHER_DEADLINE_MS).length;
  console.log(`| ${k} | ${median(t).toFixed(0)} | ${Math.min(...t).toFixed(0)} | ${Math.max(...t).toFixed(0)} | ${late}/${t.length} |`);
}
