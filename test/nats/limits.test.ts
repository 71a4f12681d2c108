// Connection limits and timers, each with its named policy (specs/nats.md §1): the CONNECT
// deadline, stale connections (unanswered server PINGs), and max_connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Server } from '../../src/index.js';
import { within } from '../helpers/bounded.js';

/** Bound on each wait for the server below (PINGs at 50 ms intervals, a greeting, a reply). */
const WAIT_MS = 5_000;

/** Connects raw, writes `send`, and resolves with everything received until the server closes. */
function rawUntilClose(port: number, send: string, maxMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`server did not close within ${maxMs} ms; got ${JSON.stringify(got)}`));
    }, maxMs);
    s.on('connect', () => {
      if (send !== '') s.write(send);
    });
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

test('a connection that never sends CONNECT gets Authentication Timeout', async () => {
  const server = await Server.start({ port: 0, jetstream: false, logLevel: 'silent', authTimeoutMs: 200 });
  try {
    const got = await rawUntilClose(server.port, '', 5000);
    assert.match(got, /^INFO \{.*\} \r\n-ERR 'Authentication Timeout'\r\n$/s);
  } finally {
    await server.close();
  }
});

test('unanswered server PINGs end in Stale Connection', async () => {
  const server = await Server.start({ port: 0, jetstream: false, logLevel: 'silent', pingIntervalMs: 100, maxPingsOut: 2 });
  try {
    const got = await rawUntilClose(server.port, 'CONNECT {"verbose":false}\r\n', 5000);
    const afterInfo = got.slice(got.indexOf('\r\n') + 2);
    assert.equal(afterInfo, "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n");
  } finally {
    await server.close();
  }
});

test('a client that answers PINGs stays connected', async () => {
  const server = await Server.start({ port: 0, jetstream: false, logLevel: 'silent', pingIntervalMs: 50, maxPingsOut: 2 });
  try {
    const s = net.connect(server.port, '127.0.0.1');
    let pings = 0;
    let closed = false;
    s.on('close', () => (closed = true));
    s.on('data', (d) => {
      const n = d.toString().split('PING\r\n').length - 1;
      pings += n;
      for (let i = 0; i < n; i++) s.write('PONG\r\n');
    });
    s.write('CONNECT {"verbose":false}\r\n');
    const deadline = Date.now() + WAIT_MS;
    while (pings < 5 && !closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(closed, false, `closed after ${pings} PINGs although every PING was answered`);
    assert.ok(pings >= 5, `only ${pings} server PINGs within ${WAIT_MS} ms at a 50 ms interval`);
    s.destroy();
  } finally {
    await server.close();
  }
});

test('max_connections: the connection over the limit is refused with an -ERR', async () => {
  const server = await Server.start({ port: 0, jetstream: false, logLevel: 'silent', maxConnections: 1 });
  try {
    const first = net.connect(server.port, '127.0.0.1');
    await within(new Promise<void>((r) => first.once('data', () => r())), WAIT_MS, "the first connection's INFO");
    const got = await rawUntilClose(server.port, '', 5000);
    assert.match(got, /-ERR 'maximum connections exceeded'\r\n$/);
    first.destroy();
  } finally {
    await server.close();
  }
});

test('max_subs: the SUB over the limit is refused, the connection stays usable', async () => {
  const server = await Server.start({ port: 0, jetstream: false, logLevel: 'silent', maxSubs: 2 });
  try {
    const s = net.connect(server.port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.write('CONNECT {"verbose":false}\r\nSUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPUB a 1\r\nx\r\nPING\r\n');
    for (let i = 0; i < WAIT_MS / 20 && !got.includes('PONG'); i++) await new Promise((r) => setTimeout(r, 20));
    const afterInfo = got.slice(got.indexOf('\r\n') + 2);
    assert.equal(afterInfo, "-ERR 'maximum subscriptions exceeded'\r\nMSG a 1 1\r\nx\r\nPONG\r\n");
    s.destroy();
  } finally {
    await server.close();
  }
});
