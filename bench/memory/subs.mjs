// Memory per subscription (issue 12): one raw NATS connection sends `SUB` × N, and the server's
// RSS (VmRSS from /proc/<pid>/status) is read before and after; (after − before) ÷ N is the cost of
// one subscription, measured the same way for herald and for nats-server (started here on free
// ports). Usage: `npm run build && node bench/memory/subs.mjs [N=100000] [runs=3]`. Prints the
// median per server. herald runs with --expose-gc and is collected before each reading, so the
// figure is live memory, not garbage; nats-server's Go GC is left alone (as deployed).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.argv[3] ?? 3);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function rss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startChild(cmd, args, ready) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const on = (d) => {
      out += d;
      const port = ready(out);
      if (port !== null) resolve({ p, port });
    };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.on('exit', (c) => reject(new Error(`${cmd} exited ${c}: ${out}`)));
    setTimeout(() => reject(new Error(`${cmd} not ready: ${out}`)), 10_000);
  });
}

/** Sends CONNECT, `n` SUBs and a PING on one connection; resolves on the PONG (all processed). */
function subscribe(port, n) {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('PONG')) resolve(s);
      if (buf.includes('-ERR')) reject(new Error(buf));
    });
    s.on('error', reject);
    s.write('CONNECT {"verbose":false,"pedantic":false}\r\n');
    const parts = [];
    for (let i = 1; i <= n; i++) parts.push(`SUB bench.${i % 1000}.s${i} ${i}\r\n`);
    s.write(parts.join(''));
    s.write('PING\r\n');
  });
}

async function measure(name, start) {
  const per = [];
  for (let r = 0; r < RUNS; r++) {
    const { p, port, gc } = await start();
    try {
      await sleep(300);
      await gc?.();
      const before = rss(p.pid);
      const sock = await subscribe(port, N);
      await sleep(300);
      await gc?.();
      const after = rss(p.pid);
      per.push((after - before) / N);
      sock.destroy();
    } finally {
      p.kill('SIGKILL');
    }
  }
  per.sort((a, b) => a - b);
  const med = per[per.length >> 1];
  console.log(`${name}: ${med.toFixed(0)} B per subscription (median of ${RUNS}; runs ${per.map((x) => x.toFixed(0)).join(', ')}; N = ${N})`);
  return med;
}

const herald = await measure('herald', async () => {
  // A child that prints its port and collects garbage on SIGUSR2 (so readings are live memory).
  const code = `
    const { Server } = await import(${JSON.stringify(join(root, 'dist/src/index.js'))});
    const { silentLogger } = await import(${JSON.stringify(join(root, 'dist/src/core/log.js'))});
    const s = await Server.start({ port: 0, logger: silentLogger(), jetstream: false, maxSubs: 0 });
    process.on('SIGUSR2', () => { global.gc(); global.gc(); process.stdout.write('GC\\n'); });
    process.stdout.write('READY ' + s.url + '\\n');`;
  const { p, port } = await startChild(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], (o) => {
    const m = /READY nats:\/\/[^:]+:(\d+)/.exec(o);
    return m ? Number(m[1]) : null;
  });
  const gc = () =>
    new Promise((resolve) => {
      p.stdout.once('data', () => resolve());
      p.kill('SIGUSR2');
    });
  return { p, port, gc };
});

const nats = await measure('nats-server', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const { p } = await startChild('nats-server', ['-a', '127.0.0.1', '-p', String(port)], (o) =>
    o.includes('Server is ready') ? port : null,
  );
  return { p, port };
});
console.log(`ratio herald / nats-server: ${(herald / nats).toFixed(2)}`);
