// Re-measures the reference servers' cells of the README "Faults" table on this machine:
//   1. bit rot: nats-server 2.9 file store, 4 bytes flipped in the middle of a stream's message
//      block, restart: messages lost, last seq, seq of the next publish;
//   2. disk full: nats-server with its store on a 20 MiB tmpfs (mounted here; needs root): the
//      error a publisher gets, and whether a purge brings publishing back without a restart;
//   3. process kill: redis-server with `appendonly yes`, `appendfsync everysec`, SIGKILLed under
//      XADD load: replies received vs entries recovered.
// Usage: node bench/faults/anchors.mjs [rot|full|redis]. Prints one line per measurement.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, StorageType } from 'nats';
import Redis from 'ioredis';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => 20000 + Math.floor(Math.random() * 30000);

async function startNats(sd) {
  const port = freePort();
  const p = spawn('nats-server', ['-js', '-sd', sd, '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  p.stderr.on('data', (d) => (log += d));
  p.stdout.on('data', (d) => (log += d));
  for (let i = 0; i < 100 && !log.includes('Server is ready'); i++) await sleep(100);
  return { p, port, log: () => log };
}

async function stop(p, sig = 'SIGTERM') {
  const done = new Promise((r) => p.once('exit', r));
  p.kill(sig);
  await done;
}

function walk(dir, out = []) {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

async function bitRot(sig) {
  const sd = mkdtempSync(join(tmpdir(), 'anchor-rot-'));
  try {
    let s = await startNats(sd);
    let nc = await connect({ port: s.port });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'ROT', subjects: ['rot.>'], storage: StorageType.File });
    const js = nc.jetstream();
    const N = 20000;
    for (let i = 0; i < N; i += 500) await Promise.all(Array.from({ length: 500 }, (_, k) => js.publish('rot.x', Buffer.alloc(100, (i + k) & 0xff))));
    await nc.close();
    await stop(s.p, sig);
    const blk = walk(sd).filter((f) => f.endsWith('.blk')).sort();
    const f = blk[blk.length - 1];
    const b = readFileSync(f);
    const mid = b.length >> 1;
    for (let k = 0; k < 4; k++) b[mid + k] ^= 0xff;
    writeFileSync(f, b);
    s = await startNats(sd);
    nc = await connect({ port: s.port });
    const jsm2 = await nc.jetstreamManager();
    const info = await jsm2.streams.info('ROT');
    // Read every message back: served intact, served changed, or refused.
    let intact = 0;
    let changed = 0;
    let missing = 0;
    for (let seq = 1; seq <= N; seq += 200) {
      const got = await Promise.all(
        Array.from({ length: Math.min(200, N - seq + 1) }, (_, k) =>
          jsm2.streams.getMessage('ROT', { seq: seq + k }).then(
            (m) => (Buffer.from(m.data).equals(Buffer.alloc(100, (seq + k - 1) & 0xff)) ? 1 : 2),
            () => 0,
          ),
        ),
      );
      for (const g of got) g === 1 ? intact++ : g === 2 ? changed++ : missing++;
    }
    const next = await nc.jetstream().publish('rot.x', Buffer.from('after'));
    console.log(
      `nats-server bit rot (${sig} before, 4 bytes flipped mid-block, ${blk.length} block(s)): ${N} stored; after restart info says ${info.state.messages} (last_seq ${info.state.last_seq}, num_deleted ${info.state.num_deleted ?? 0}); read back ${intact} intact, ${changed} changed, ${missing} not served; next publish seq ${next.seq}`,
    );
    await nc.close();
    await stop(s.p);
  } finally {
    rmSync(sd, { recursive: true, force: true });
  }
}

async function diskFull() {
  const mnt = mkdtempSync(join(tmpdir(), 'anchor-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mnt]);
  } catch (e) {
    console.log(`nats-server disk full: skipped (cannot mount a tmpfs: ${e.message.split('\n')[0]})`);
    return;
  }
  try {
    const s = await startNats(mnt);
    const nc = await connect({ port: s.port });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'FULL', subjects: ['full.>'], storage: StorageType.File });
    const js = nc.jetstream();
    let acked = 0;
    let err = null;
    for (let i = 0; i < 1000 && err === null; i++) {
      try {
        await js.publish('full.x', Buffer.alloc(64 * 1024, i & 0xff));
        acked++;
      } catch (e) {
        err = e;
      }
    }
    const code = err?.api_error?.err_code ?? err?.code;
    const info = await jsm.streams.info('FULL');
    await jsm.streams.purge('FULL');
    let back = false;
    try {
      await js.publish('full.x', Buffer.alloc(64 * 1024));
      back = true;
    } catch {
      /* still refused */
    }
    console.log(
      `nats-server disk full (20 MiB tmpfs, 64 KiB publishes): ${acked} acked, then refused with ${code} "${err?.message}"; stream held ${info.state.messages}; after a purge publishing works: ${back}`,
    );
    await nc.close();
    await stop(s.p);
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
}

async function redisKill() {
  const dir = mkdtempSync(join(tmpdir(), 'anchor-redis-'));
  const port = freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];
  try {
    let p = spawn('redis-server', args, { stdio: 'ignore' });
    await sleep(500);
    let r = new Redis({ port, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    r.on('error', () => undefined); // the kill resets the connection
    await r.connect();
    let acked = 0;
    let stopLoad = false;
    const load = (async () => {
      while (!stopLoad) {
        try {
          await Promise.all(Array.from({ length: 100 }, () => r.xadd('s', '*', 'f', 'v').then(() => acked++)));
        } catch {
          return;
        }
      }
    })();
    await sleep(1500);
    const exited = new Promise((res) => p.once('exit', res));
    p.kill('SIGKILL');
    await exited;
    stopLoad = true;
    await load;
    r.disconnect();
    p = spawn('redis-server', args, { stdio: 'ignore' });
    await sleep(800);
    r = new Redis({ port });
    const len = await r.xlen('s');
    console.log(`redis-server appendfsync everysec, SIGKILL under XADD load: ${acked} replies received, ${len} entries after restart (lost ${Math.max(0, acked - len)})`);
    r.disconnect();
    await stop(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const only = process.argv[2];
if (only === undefined || only === 'rot') {
  await bitRot('SIGTERM');
  await bitRot('SIGKILL');
}
if (only === undefined || only === 'full') await diskFull();
if (only === undefined || only === 'redis') await redisKill();
