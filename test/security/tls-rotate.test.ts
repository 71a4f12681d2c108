// TLS certificate rotation on reload (nats-server reload.go tlsOption): after SIGHUP new NATS
// connections get the new certificate, connections already open keep theirs; the files are read
// again even when their paths did not change; a reload naming a bad certificate file is refused
// with one log line and the running certificate stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { startHeraldChild } from '../helpers/herald-child.js';
import { makeTestCerts } from './tls-certs.js';
import { within } from '../helpers/bounded.js';

const WAIT_MS = 20_000;

/** The SHA-256 fingerprint of the certificate herald presents to a new NATS client (INFO, then TLS). */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      const raw = net.connect({ host: '127.0.0.1', port });
      raw.once('error', reject);
      raw.once('data', () => {
        const s = tls.connect({ socket: raw, ca: readFileSync(ca), servername: 'localhost' }, () => {
          const fp = s.getPeerCertificate().fingerprint256;
          s.destroy();
          resolve(fp);
        });
        s.once('error', reject);
      });
    }),
    WAIT_MS,
    'a TLS handshake with herald',
  );
}

function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

test('SIGHUP rotates the NATS TLS certificate for new connections; a bad file is refused and the old one stays', async () => {
  const a = makeTestCerts();
  const b = makeTestCerts(); // another CA and server certificate
  const conf = (cert: string, key: string, ca: string): string =>
    `tls {\n  cert_file: "${cert}"\n  key_file: "${key}"\n  ca_file: "${ca}"\n}\n`;
  // The served files live at fixed paths, overwritten on rotation as a certificate tool would.
  const cert = join(a.dir, 'live.pem');
  const key = join(a.dir, 'live-key.pem');
  copyFileSync(a.server.cert, cert);
  copyFileSync(a.server.key, key);
  const h = await startHeraldChild(conf(cert, key, a.ca));
  const rewrite = (text: string): void =>
    writeFileSync(h.conf, `${text}port: -1\nhost: 127.0.0.1\nports_file_dir: ${JSON.stringify(h.dir)}\n`);
  const hup = async (what: RegExp): Promise<void> => {
    process.kill(h.pid, 'SIGHUP');
    await h.waitLog(what, WAIT_MS, `the reload's log line (${what.source})`);
  };
  try {
    assert.equal(await servedFingerprint(h.port, a.ca), fingerprintOf(a.server.cert));
    const before = await connect({ servers: h.url, tls: { caFile: a.ca }, reconnect: false });
    await before.flush();

    // Rotate: same paths, new contents (b's certificate, signed by b's CA).
    copyFileSync(b.server.cert, cert);
    copyFileSync(b.server.key, key);
    rewrite(conf(cert, key, b.ca));
    await hup(/Reloaded server configuration/);
    assert.equal(await servedFingerprint(h.port, b.ca), fingerprintOf(b.server.cert), 'a new connection gets the new certificate');
    await within(before.flush(), WAIT_MS, 'the connection opened before the rotation still answers');
    assert.equal(before.isClosed(), false);

    // A bad certificate file: refused with one line; the running certificate stays.
    rewrite(conf(join(a.dir, 'missing.pem'), key, b.ca));
    await hup(/missing\.pem/);
    const line = h.stderr().split('\n').filter((l) => /missing\.pem/.test(l));
    assert.equal(line.length, 1, `one log line names the bad file:\n${line.join('\n')}`);
    assert.equal(await servedFingerprint(h.port, b.ca), fingerprintOf(b.server.cert), 'the running certificate stays after a bad reload');
    await before.close();
  } finally {
    await h.stop();
    a.remove();
    b.remove();
  }
});
