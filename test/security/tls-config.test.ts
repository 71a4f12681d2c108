// The tls { } block, allow_non_tls, https_port and the --tls* flags read as nats-server reads them
// (opts.go parseTLS, overrideTLS, getDefaultAuthTimeout; server.go StartMonitoring), and what
// herald refuses with the key's location.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyNatsConf, validateOptions } from '../../src/config/load.js';
import { parseNatsConf } from '../../src/config/nats-conf.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { parseCommandLine } from '../../src/cli/args.js';
import { makeTestCerts, tlsBlock, type TestCerts } from './tls-certs.js';

let certs: TestCerts;
before(() => {
  certs = makeTestCerts();
});
after(() => certs.remove());

const apply = (text: string, invoked: 'herald' | 'nats-server' = 'nats-server') =>
  applyNatsConf(parseNatsConf(text, { env: {} }), defaultOptions(invoked));
const fails = (text: string, re: RegExp): void => {
  assert.throws(() => apply(text), re);
};

test('the tls block: every supported key, with nats-server defaults for the rest', () => {
  const r = apply(
    tlsBlock(
      certs,
      `verify_and_map: true
  timeout: "1500ms"
  handshake_first: auto
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
  min_version: "1.3"
  pinned_certs: ["${'ab'.repeat(32)}"]`,
    ),
  );
  const t = r.options.tls!;
  assert.deepEqual(
    { ...t, certFile: undefined, keyFile: undefined, caFile: undefined },
    {
      certFile: undefined,
      keyFile: undefined,
      caFile: undefined,
      verify: true, // verify_and_map implies verify
      map: true,
      timeoutMs: 1500,
      handshakeFirst: true,
      handshakeFirstFallbackMs: 50, // nats-server DEFAULT_TLS_HANDSHAKE_FIRST_FALLBACK_DELAY
      allowNonTls: false,
      ciphers: ['ECDHE-ECDSA-AES128-GCM-SHA256'],
      curves: ['X25519', 'P-256'],
      minVersion: 'TLSv1.3',
      pinnedCerts: ['ab'.repeat(32)],
    },
  );
  assert.equal(t.certFile, certs.server.cert);
  // nats-server getDefaultAuthTimeout: the TLS timeout + 1 s unless authorization.timeout is set.
  assert.equal(r.options.authTimeoutMs, 2500);
  assert.equal(apply(`${tlsBlock(certs)}authorization { timeout: 5 }`).options.authTimeoutMs, 5000);
  assert.equal(apply(tlsBlock(certs, 'timeout: 0.5')).options.tls!.timeoutMs, 500);
  assert.equal(apply(tlsBlock(certs, 'handshake_first: "300ms"')).options.tls!.handshakeFirstFallbackMs, 300);
  assert.deepEqual(r.warnings, []);
});

test('allow_non_tls applies to the tls block wherever it appears; without one it is a warning', () => {
  assert.equal(apply(`allow_non_tls: true\n${tlsBlock(certs)}`).options.tls!.allowNonTls, true);
  const r = apply('allow_non_tls: true\n');
  assert.equal(r.options.tls, null);
  assert.match(r.warnings[0]!, /'allow_non_tls' is ignored: there is no tls block/);
});

test('refused and bad tls keys name the key and why', () => {
  fails('tls { key_file: k.pem }', /tls: missing 'cert_file' in TLS configuration/);
  fails(tlsBlock(certs, 'insecure: true'), /tls\.insecure: skipping certificate verification is refused/);
  fails(tlsBlock(certs, 'cert_store: WindowsCurrentUser'), /tls\.cert_store: herald reads certificates from files only/);
  fails(tlsBlock(certs, 'connection_rate_limit: 10'), /tls\.connection_rate_limit: herald has no TLS connection rate limit/);
  fails(tlsBlock(certs, 'bogus: 1'), /tls\.bogus: unknown field 'bogus' in the tls block/);
  fails(tlsBlock(certs, 'cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]'), /unrecognized cipher TLS_RSA_WITH_RC4_128_SHA/);
  fails(tlsBlock(certs, 'cipher_suites: []'), /'cipher_suites' cannot be empty/);
  fails(tlsBlock(certs, 'curve_preferences: [CurveP224]'), /unrecognized curve preference CurveP224/);
  fails(tlsBlock(certs, 'min_version: "1.1"'), /unsupported TLS version: TLS 1\.1/);
  fails(tlsBlock(certs, 'timeout: -1'), /tls\.timeout: expected seconds/);
  fails(tlsBlock(certs, 'handshake_first: sometimes'), /tls\.handshake_first: expected true, false, "auto"/);
  fails(tlsBlock(certs, 'verify: "yes"'), /tls\.verify: expected true or false/);
  fails(tlsBlock(certs, 'pinned_certs: ["abc"]'), /does not look like hex-encoded sha256/);
  fails(
    `tls { cert_file: "${join(certs.dir, 'missing.pem')}", key_file: "${certs.server.key}" }`,
    /<config>:1:1: tls: cannot read the certificate file ".*missing\.pem": ENOENT$/,
  );
  // A key that is not the certificate's: nats-server's GenTLSConfig error, at config time.
  fails(`tls { cert_file: "${certs.server.cert}", key_file: "${certs.alice.key}" }`, /error parsing X509 certificate\/key pair/);
  const garbage = join(certs.dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  fails(`tls { cert_file: "${garbage}", key_file: "${certs.server.key}" }`, /error parsing X509 certificate\/key pair/);
});

test('https_port: needs TLS, replaces plain HTTP monitoring, and cannot be combined with http_port', () => {
  const r = apply(`${tlsBlock(certs)}https_port: 8443\n`, 'herald');
  assert.equal(r.options.httpsPort, 8443);
  assert.equal(r.options.httpPort, null, "herald's default http port gives way to https");
  assert.deepEqual(validateOptions(r.options), []);
  assert.throws(
    () => validateOptions(apply('https_port: 8443\n').options),
    /^Error: TLS cert and key required for HTTPS$|TLS cert and key required for HTTPS/,
  );
  assert.throws(
    () => validateOptions(apply(`${tlsBlock(certs)}https_port: 8443\nhttp_port: 8222\n`).options),
    /can't specify both HTTP \(8222\) and HTTPs \(8443\) ports/,
  );
  const h = apply(`${tlsBlock(certs)}https: "127.0.0.2:-1"\n`);
  assert.equal(h.options.httpHost, '127.0.0.2');
  assert.equal(h.options.httpsPort, 0);
});

test('--tls* flags: nats-server overrideTLS, for both invocations', () => {
  const f = ['--tlscert', certs.server.cert, '--tlskey', certs.server.key, '--tlscacert', certs.ca, '--tlsverify'];
  for (const [argv, invoked] of [
    [f, 'nats-server'],
    [['serve', ...f], 'herald'],
  ] as const) {
    const t = parseCommandLine([...argv], invoked).options.tls!;
    assert.equal(t.certFile, certs.server.cert);
    assert.equal(t.caFile, certs.ca);
    assert.equal(t.verify, true);
    assert.equal(t.timeoutMs, 2000);
  }
  // Flags replace the file's block; --tls=false removes it.
  const conf = join(certs.dir, 'tls.conf');
  writeFileSync(conf, tlsBlock(certs, 'verify: true'));
  assert.equal(parseCommandLine(['-c', conf], 'nats-server').options.tls!.verify, true);
  assert.equal(parseCommandLine(['-c', conf, '--tls=false'], 'nats-server').options.tls, null);
  assert.throws(
    () => parseCommandLine(['-c', conf, '--tlsverify'], 'nats-server'),
    /^Error: TLS Server certificate must be present and valid$|TLS Server certificate must be present/,
  );
  assert.throws(
    () => parseCommandLine(['--tlscert', certs.server.cert], 'nats-server'),
    /TLS Server private key must be present and valid/,
  );
  const ms = parseCommandLine(['-ms', '-1', ...f], 'nats-server').options;
  assert.equal(ms.httpsPort, 0);
  assert.equal(ms.httpPort, null);
});
