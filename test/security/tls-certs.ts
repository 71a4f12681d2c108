/**
 * Certificates for the TLS tests, made by /usr/bin/openssl at run time in a temporary directory
 * (never committed): a CA, a server certificate for 127.0.0.1/localhost, client certificates for
 * verify_and_map (alice: email SAN; bob: subject DN only; carol: no configured user), and a
 * second CA with a client it signed (the wrong CA). EC P-256 keys keep generation fast.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Paths of one certificate and its key. */
export interface CertPair {
  cert: string;
  key: string;
}

/** Every file the TLS tests use; `remove()` deletes them. */
export interface TestCerts {
  dir: string;
  ca: string;
  server: CertPair;
  alice: CertPair;
  bob: CertPair;
  carol: CertPair;
  /** Signed by another CA, which herald's ca_file does not hold. */
  rogue: CertPair;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): CertPair {
  const p = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  openssl(['req', '-x509', ...EC, '-keyout', p.key, '-out', p.cert, '-days', '2', '-subj', `/CN=${name}`], dir);
  return p;
}

function makeLeaf(dir: string, ca: CertPair, name: string, subj: string, ext: string | null): CertPair {
  const p = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  const csr = join(dir, `${name}.csr`);
  openssl(['req', ...EC, '-keyout', p.key, '-out', csr, '-subj', subj], dir);
  const args = ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', p.cert, '-days', '2'];
  if (ext !== null) {
    const extFile = join(dir, `${name}.ext`);
    writeFileSync(extFile, `${ext}\n`);
    args.push('-extfile', extFile);
  }
  openssl(args, dir);
  return p;
}

/** Generates the whole set (about 0.3 s). */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
  const ca = makeCa(dir, 'ca');
  const other = makeCa(dir, 'other-ca');
  return {
    dir,
    ca: ca.cert,
    server: makeLeaf(dir, ca, 'server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1'),
    alice: makeLeaf(dir, ca, 'alice', '/C=US/O=Herald/OU=test/CN=alice', 'subjectAltName=email:alice@example.com'),
    bob: makeLeaf(dir, ca, 'bob', '/O=Herald/CN=bob', null),
    carol: makeLeaf(dir, ca, 'carol', '/O=Herald/CN=carol', null),
    rogue: makeLeaf(dir, other, 'rogue', '/O=Herald/CN=bob', null),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A `tls { }` block for these certificates, with extra lines inside it. */
export function tlsBlock(c: TestCerts, extra = ''): string {
  return `tls {
  cert_file: "${c.server.cert}"
  key_file: "${c.server.key}"
  ca_file: "${c.ca}"
  ${extra}
}
`;
}
