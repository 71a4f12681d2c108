/**
 * Memory pressure (issue 12 item 5): 100 subscribers that never read and one fast publisher. With
 * a 64 MiB server-wide outbound budget (`maxOutbound`), the server's resident memory stays under
 * its idle size + the budget + OVERHEAD_BYTES (what the subscriptions, socket objects, the
 * publisher's read buffers and V8's heap slack cost), and the never-reading subscribers are closed
 * as slow consumers. Without the budget each of them could hold 64 MiB (max_pending), 6.4 GB in all.
 * The subscribers are plain sockets that send CONNECT and SUB and then never read: the one client
 * that can be told not to read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { waitFor } from '../jetstream/helpers.js';

const CHILD = fileURLToPath(new URL('./server-child.js', import.meta.url));
const SUBSCRIBERS = 100;
const BUDGET = 64 * 1024 * 1024;
/** Allowed above idle RSS + budget: per-connection objects, read buffers, heap growth before GC. */
const OVERHEAD_BYTES = 160 * 1024 * 1024;
const PAYLOAD = 16 * 1024;
/** 100 × 4000 × 16 KiB = 6.4 GB of deliveries if nothing bounded them. */
const MESSAGES = 4000;
const START_TIMEOUT_MS = 10_000;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

function start(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, String(BUDGET)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server child did not start: ${err}`));
    }, START_TIMEOUT_MS);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY nats:\/\/([^:]+):(\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, url: `nats://${m[1]}:${m[2]}` });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server child exited with ${code}: ${err}`));
    });
  });
}

/** A subscriber that sends CONNECT and SUB and never reads again. */
function deafSubscriber(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1', () => {
      s.write('CONNECT {"verbose":false,"pedantic":false}\r\nSUB mem.> 1\r\nPING\r\n');
      s.once('data', () => {
        // INFO (and perhaps PONG) read; from here on nothing is read.
        s.pause();
        resolve(s);
      });
    });
    s.on('error', () => undefined);
    s.once('error', reject);
  });
}

test(
  'RSS stays within the outbound budget with 100 never-reading subscribers and a fast publisher',
  { timeout: 120_000 },
  async (t) => {
    const { child, url } = await start();
    const subs: Socket[] = [];
    try {
      const pid = child.pid as number;
      const port = Number(new URL(url.replace('nats:', 'http:')).port);
      for (let i = 0; i < SUBSCRIBERS; i++) subs.push(await deafSubscriber(port));
      let closed = 0;
      for (const s of subs) s.once('close', () => closed++);
      const nc = await connect({ servers: url });
      await nc.flush();
      const idle = rssOf(pid);
      let peak = idle;
      const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
      try {
        const payload = Buffer.alloc(PAYLOAD, 7);
        for (let i = 0; i < MESSAGES; i++) {
          nc.publish(`mem.${i % 8}`, payload);
          if (i % 50 === 49) await nc.flush();
        }
        await nc.flush();
        peak = Math.max(peak, rssOf(pid));
      } finally {
        clearInterval(sampler);
        await nc.close();
      }
      // A paused socket sees the server's close only once it reads: read now, and count the closes.
      for (const s of subs) {
        s.on('data', () => undefined);
        s.resume();
      }
      await waitFor(() => closed === SUBSCRIBERS, 5000, 50);
      t.diagnostic(
        `idle RSS ${(idle / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB, budget ${BUDGET / 2 ** 20} MiB, ` +
          `${closed} of ${SUBSCRIBERS} never-reading subscribers closed`,
      );
      assert.ok(
        peak <= idle + BUDGET + OVERHEAD_BYTES,
        `peak RSS ${peak} above idle ${idle} + budget ${BUDGET} + overhead ${OVERHEAD_BYTES}`,
      );
      assert.ok(closed > 0, 'no never-reading subscriber was closed as a slow consumer');
    } finally {
      for (const s of subs) s.destroy();
      child.kill('SIGKILL');
    }
  },
);
