// Differential: the same TLS conf and certificates on herald and on the real nats-server; raw
// sockets observe the upgrade dance (INFO fields in plaintext, then what happens to a plaintext
// CONNECT, to bytes that look like TLS but are not, to a client that never starts the handshake,
// and to a plaintext client under allow_non_tls), and /varz over HTTPS reports the same TLS
// fields. nats-server server.go createClient / client.go doTLSHandshake, tlsTimeout.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import * as v2 from 'nats';
import { freePort } from '../helpers/nats-server.js';
import { within } from '../helpers/bounded.js';
import { rawAuth, startHerald, startReferenceNats, type RawSeen, type Target } from './helpers.js';
import { makeTestCerts, tlsBlock, type TestCerts } from './tls-certs.js';

let certs: TestCerts;
before(() => {
  certs = makeTestCerts();
});
after(() => certs.remove());

/** INFO fields that depend on TLS and auth settings. */
const TLS_FIELDS = ['tls_required', 'tls_verify', 'tls_available', 'auth_required'];

function tlsFields(info: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TLS_FIELDS) if (k in info) out[k] = info[k];
  return out;
}

/** Runs `scenario` against both servers started from `conf`; returns [herald, nats-server]. */
async function both<T>(
  conf: (port: number | null) => string,
  scenario: (t: Target, port: number | null) => Promise<T>,
  https = false,
): Promise<[T, T]> {
  const out: T[] = [];
  for (const start of [startHerald, startReferenceNats]) {
    const port = https ? await freePort() : null;
    const t = await start(conf(port));
    try {
      out.push(await scenario(t, port));
    } finally {
      await t.stop();
    }
  }
  return [out[0]!, out[1]!];
}

const raw =
  (script: string[], done: (r: string) => boolean = () => false, maxMs = 5000) =>
  async (t: Target): Promise<RawSeen> =>
    rawAuth(t.port, () => script, done, maxMs);

describe('TLS differential (herald vs nats-server, same conf and certificates)', () => {
  test('INFO advertises tls_required (and tls_verify with verify) in plaintext', async () => {
    for (const extra of ['', 'verify: true', 'verify_and_map: true']) {
      const conf =
        tlsBlock(certs, extra) + (extra.includes('map') ? 'authorization { users = [ { user: "alice@example.com" } ] }\n' : '');
      const [h, n] = await both(
        () => conf,
        raw([], () => true, 500),
      );
      assert.deepEqual(tlsFields(h.info), tlsFields(n.info), `conf with '${extra}'`);
      assert.equal(h.info.tls_required, true);
    }
  });

  test('a plaintext CONNECT to a TLS server: closed, nothing after INFO', async () => {
    const [h, n] = await both(() => tlsBlock(certs), raw(['CONNECT {"verbose":false}\r\nPING\r\n']));
    assert.deepEqual({ rest: h.rest, closed: h.closed }, { rest: n.rest, closed: n.closed });
    assert.equal(h.closed, true);
    assert.equal(h.rest, '');
  });

  test('bytes that look like a TLS record but are garbage: closed, no other client affected', async () => {
    const garbage = '\x16\x03\x01\x00\x05hello\r\n';
    const [h, n] = await both(
      () => tlsBlock(certs),
      async (t) => {
        const seen = await raw([garbage])(t);
        // A good client connects after the bad one.
        const nc = await within(v2.connect({ servers: t.url, tls: { caFile: certs.ca }, reconnect: false }), 6000, 'v2 connect');
        await nc.flush();
        await nc.close();
        return { closed: seen.closed, plaintextAfterInfo: /[A-Z]{3,}/.test(seen.rest) };
      },
    );
    assert.deepEqual(h, n);
    assert.equal(h.closed, true);
  });

  test('clients that never start or never finish the handshake are closed by tls.timeout; others are served meanwhile', async () => {
    const [h, n] = await both(
      () => tlsBlock(certs, 'timeout: 0.5'),
      async (t) => {
        const silent = raw([], () => false, 8000)(t);
        // A TLS record header announcing 512 bytes of ClientHello, then nothing.
        const half = raw(['\x16\x03\x01\x02\x00\x01'], () => false, 8000)(t);
        const nc = await within(v2.connect({ servers: t.url, tls: { caFile: certs.ca }, reconnect: false }), 6000, 'v2 connect');
        await nc.flush();
        await nc.close();
        const [a, b] = await Promise.all([silent, half]);
        return { silent: { rest: a.rest, closed: a.closed }, half: { rest: b.rest, closed: b.closed } };
      },
    );
    assert.deepEqual(h, n);
    assert.equal(h.silent.closed && h.half.closed, true, 'stuck clients must be closed within the bound');
  });

  test('allow_non_tls: INFO has tls_available and a plaintext client is served', async () => {
    const [h, n] = await both(
      () => `${tlsBlock(certs)}allow_non_tls: true\n`,
      raw(['CONNECT {"verbose":false}\r\nPING\r\n'], (r) => r.includes('PONG')),
    );
    assert.deepEqual(tlsFields(h.info), tlsFields(n.info));
    assert.deepEqual({ rest: h.rest, closed: h.closed }, { rest: n.rest, closed: n.closed });
    assert.equal(h.rest, 'PONG\r\n');
  });

  test('the server sends cert_file only, not its CA: a client without the CA reads the same error', async () => {
    // Go's crypto/tls sends the certificates of cert_file as they are; OpenSSL would complete the
    // chain from ca_file (nats.node test/tls.js, "available connects with or without").
    const [h, n] = await both(
      () => `${tlsBlock(certs)}allow_non_tls: true\n`,
      async (t) => {
        const chain = await peerChain(t.port);
        const err = await v2.connect({ servers: t.url, reconnect: false }).then(
          async (nc) => {
            await nc.close();
            return 'connected';
          },
          (e: Error) => e.message,
        );
        return { chain, err };
      },
    );
    assert.deepEqual(h, n);
    assert.equal(h.chain.length, 1, 'only the leaf certificate');
    assert.match(h.err, /^unable to verify the first certificate/);
  });

  test('/connz shows tls_version and tls_cipher_suite for a TLS client', async () => {
    const seen: Record<string, unknown>[] = [];
    for (const name of ['herald', 'nats-server']) {
      const mport = await freePort();
      const t =
        name === 'herald'
          ? await startHerald(tlsBlock(certs), { monitor: true })
          : await startReferenceNats(`${tlsBlock(certs)}http_port: ${mport}\n`);
      try {
        const nc = await within(v2.connect({ servers: t.url, tls: { caFile: certs.ca }, reconnect: false }), 6000, 'v2 connect');
        await nc.flush();
        const base = t.herald?.monitorUrl ?? `http://127.0.0.1:${mport}`;
        const res = await within(fetch(`${base}/connz`), 5000, 'GET /connz');
        const c = ((await res.json()) as { connections: Record<string, unknown>[] }).connections[0]!;
        await nc.close();
        // The suite itself is the client's and server's choice among TLS 1.3 suites (Go prefers
        // AES-128 where OpenSSL prefers AES-256): compare that one is named.
        seen.push({ tls_version: c.tls_version, suite_named: /^TLS_/.test(String(c.tls_cipher_suite)) });
      } finally {
        await t.stop();
      }
    }
    assert.deepEqual(seen[0], seen[1]);
    assert.deepEqual(seen[0], { tls_version: '1.3', suite_named: true });
  });

  test('/varz over HTTPS (https_port) reports the same TLS fields', async () => {
    const get = (port: number): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const req = https.get(
          { host: '127.0.0.1', port, path: '/varz', ca: readFileSync(certs.ca), servername: 'localhost' },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
          },
        );
        req.on('error', reject);
      });
    const pick = (v: Record<string, unknown>, port: number): Record<string, unknown> => ({
      tls_required: v.tls_required,
      tls_verify: v.tls_verify,
      tls_timeout: v.tls_timeout,
      auth_timeout: v.auth_timeout,
      http_port: v.http_port,
      https_port_is_ours: v.https_port === port,
    });
    const [h, n] = await both(
      (port) => `${tlsBlock(certs, 'verify: true\n  timeout: 1.5')}https_port: ${port}\n`,
      async (_t, port) => pick(await within(get(port!), 5000, 'GET /varz over HTTPS'), port!),
      true,
    );
    assert.deepEqual(h, n);
    assert.deepEqual(h, {
      tls_required: true,
      tls_verify: true,
      tls_timeout: 1.5,
      auth_timeout: 2.5,
      http_port: 0,
      https_port_is_ours: true,
    });
  });
});

/** Subjects of the certificates the server presents on a TLS upgrade (INFO first, then TLS). */
function peerChain(port: number): Promise<string[]> {
  return within(
    new Promise<string[]>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', reject);
      s.once('data', () => {
        const t = tls.connect({ socket: s, rejectUnauthorized: false, servername: 'localhost' }, () => {
          const out: string[] = [];
          let c: tls.DetailedPeerCertificate | undefined = t.getPeerCertificate(true);
          const seen = new Set<string>();
          while (c !== undefined && c.fingerprint256 !== undefined && !seen.has(c.fingerprint256)) {
            seen.add(c.fingerprint256);
            out.push(String(c.subject?.CN));
            c = c.issuerCertificate;
          }
          t.destroy();
          resolve(out);
        });
        t.on('error', reject);
      });
    }),
    5000,
    'TLS upgrade to read the peer chain',
  );
}
