/**
 * TLS settings of every door: the NATS `tls { }` block read as nats-server's opts.go parseTLS
 * reads it, the `redis_tls { }` block (Redis's `tls-*` names accepted), and the Node
 * `tls.SecureContext` built from either. Keys herald cannot honour are refused rather than
 * ignored: ignoring a TLS key would leave the server less strict than its config says.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { ConfigError, describeValue } from './errors.js';
import { confLocation, type ConfValue } from './nats-conf.js';
import { MAX_PORT, parseGoDuration } from './values.js';

/**
 * TLS of the NATS door (and of HTTPS monitoring, which reuses its certificate). Guarantees:
 * certFile and keyFile are set; `map` implies `verify`; timeoutMs > 0. Costs one TLS handshake
 * per connection (≈1–3 ms of CPU with an RSA-2048 key), then encryption of every byte.
 */
export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  /** CAs that sign client certificates (and that `verify` checks against); null = Node's defaults. */
  readonly caFile: string | null;
  /** Client certificates are required and checked against `caFile` (nats-server `verify`). */
  readonly verify: boolean;
  /** The client certificate names the user (nats-server `verify_and_map`). */
  readonly map: boolean;
  /** How long a client may take to finish the handshake (nats-server `timeout`, default 2 s). */
  readonly timeoutMs: number;
  /** Handshake before INFO (nats-server 2.10 `handshake_first`). */
  readonly handshakeFirst: boolean;
  /** With handshakeFirst: wait this long for the client's ClientHello, then fall back to INFO
   * first (`handshake_first: auto` or a duration); 0 = never fall back. */
  readonly handshakeFirstFallbackMs: number;
  /** Plaintext clients are accepted beside TLS ones (nats-server top-level `allow_non_tls`). */
  readonly allowNonTls: boolean;
  /** OpenSSL names of the TLS 1.2 suites offered; null = Node's defaults. */
  readonly ciphers: readonly string[] | null;
  /** OpenSSL names of the key-exchange groups; null = Node's defaults. */
  readonly curves: readonly string[] | null;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** Hex SHA-256 of the DER SubjectPublicKeyInfo of accepted client certificates (nats-server `pinned_certs`); null = any. */
  readonly pinnedCerts: readonly string[] | null;
}

/** nats-server TLS_TIMEOUT: a handshake must finish within 2 s. */
export const DEFAULT_TLS_TIMEOUT_MS = 2000;
/** nats-server DEFAULT_TLS_HANDSHAKE_FIRST_FALLBACK_DELAY, used by `handshake_first: auto`. */
export const HANDSHAKE_FIRST_FALLBACK_MS = 50;

/**
 * Go's secure cipher suite names (crypto/tls CipherSuites(), what nats-server's cipherMap holds)
 * and their OpenSSL names. TLS 1.3 suites are listed because Go accepts them, but, as in Go,
 * they are always enabled whatever the list says.
 */
const CIPHERS: Readonly<Record<string, string | null>> = {
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
};
/** TLS 1.3 suites, always offered (Go: "TLS 1.3 ciphersuites are not configurable"). */
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** nats-server curvePreferenceMap names → OpenSSL group names. */
const CURVES: Readonly<Record<string, string>> = {
  X25519: 'X25519',
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
};

/** Keys of `tls { }` nats-server has and herald refuses, with the reason. */
const REFUSED_TLS_KEYS: Readonly<Record<string, string>> = {
  insecure:
    'skipping certificate verification is refused: it only applies to outgoing connections, which herald does not make, and would hide a misconfiguration',
  verify_cert_and_check_known_urls: 'herald has no cluster or gateway URLs to check certificates against',
  connection_rate_limit: 'herald has no TLS connection rate limit; limit connections with max_connections',
  cert_store: 'herald reads certificates from files only (cert_file/key_file)',
  cert_match_by: 'herald reads certificates from files only (cert_file/key_file)',
  cert_match: 'herald reads certificates from files only (cert_file/key_file)',
  cert_match_skip_invalid: 'herald reads certificates from files only (cert_file/key_file)',
  ca_certs_match: 'herald reads CAs from ca_file only',
  ocsp_peer: 'herald does not check client certificates with OCSP',
  certs: 'herald serves one certificate (cert_file/key_file)',
  certificates: 'herald serves one certificate (cert_file/key_file)',
};

/** Where a value sits (same shape as load.ts's). */
export interface TlsWhere {
  container: object;
  key: string;
  path: string;
}

function fail(w: TlsWhere, message: string): ConfigError {
  return new ConfigError(`${w.path}: ${message}`, { location: confLocation(w.container, w.key), key: w.path });
}

function bad(w: TlsWhere, allowed: string, v: ConfValue): ConfigError {
  return fail(w, `expected ${allowed}, got ${describeValue(v)}`);
}

function mapEntries(w: TlsWhere, v: ConfValue, allowed: string): [string, ConfValue, TlsWhere][] {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date) throw bad(w, allowed, v);
  return Object.keys(v).map((k) => [k.toLowerCase(), v[k]!, { container: v, key: k, path: `${w.path}.${k}` }]);
}

function file(w: TlsWhere, v: ConfValue): string {
  if (typeof v !== 'string' || v.trim() === '') throw bad(w, 'a file name', v);
  return v;
}

function flag(w: TlsWhere, v: ConfValue): boolean {
  if (typeof v === 'boolean') return v;
  throw bad(w, 'true or false', v);
}

function list(w: TlsWhere, v: ConfValue, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0) throw fail(w, `'${w.key}' cannot be empty; give a list of ${what}`);
  return v.map((e) => {
    if (typeof e !== 'string') throw bad(w, `a list of ${what}`, v);
    return e;
  });
}

/** nats-server parseTLS `timeout`: seconds (integer or float) or a duration string. */
function timeout(w: TlsWhere, v: ConfValue): number {
  const ms = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? parseGoDuration(v) : undefined;
  if (ms === undefined || !(ms > 0) || !Number.isFinite(ms))
    throw bad(w, 'seconds (e.g. 2 or 0.5) or a duration such as "2s"', v);
  return ms;
}

/** nats-server 2.10 `handshake_first`: a boolean, "auto", or a fallback duration. */
function handshakeFirst(w: TlsWhere, v: ConfValue): { on: boolean; fallbackMs: number } {
  if (typeof v === 'boolean') return { on: v, fallbackMs: 0 };
  if (typeof v === 'string') {
    const t = v.toLowerCase();
    if (t === 'true' || t === 'on') return { on: true, fallbackMs: 0 };
    if (t === 'false' || t === 'off') return { on: false, fallbackMs: 0 };
    if (t === 'auto' || t === 'auto_fallback') return { on: true, fallbackMs: HANDSHAKE_FIRST_FALLBACK_MS };
    const ms = parseGoDuration(v);
    if (ms !== undefined && ms > 0) return { on: true, fallbackMs: ms };
  }
  throw bad(w, 'true, false, "auto" or a fallback duration such as "300ms"', v);
}

/** Fields a `tls { }` block sets, before the files are checked. */
interface TlsDraft {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  verify: boolean;
  map: boolean;
  timeoutMs: number;
  handshakeFirst: boolean;
  handshakeFirstFallbackMs: number;
  ciphers: string[] | null;
  curves: string[] | null;
  minVersion: TlsSettings['minVersion'];
  pinnedCerts: string[] | null;
}

/**
 * Reads the NATS `tls { }` block (nats-server opts.go parseTLS, client context). Throws a
 * ConfigError naming the key for a bad value, a refused key, or a missing cert/key file, and
 * checks the files load (nats-server GenTLSConfig fails at config time too).
 */
export function parseTlsBlock(v: ConfValue, w: TlsWhere): TlsSettings {
  const d: TlsDraft = {
    verify: false,
    map: false,
    timeoutMs: DEFAULT_TLS_TIMEOUT_MS,
    handshakeFirst: false,
    handshakeFirstFallbackMs: 0,
    ciphers: null,
    curves: null,
    minVersion: 'TLSv1.2',
    pinnedCerts: null,
  };
  for (const [k, mv, mw] of mapEntries(w, v, 'a map such as { cert_file: server.pem, key_file: server-key.pem }')) {
    switch (k) {
      case 'cert_file':
        d.certFile = file(mw, mv);
        break;
      case 'key_file':
        d.keyFile = file(mw, mv);
        break;
      case 'ca_file':
        d.caFile = file(mw, mv);
        break;
      case 'verify':
        d.verify = flag(mw, mv) || d.verify;
        break;
      case 'verify_and_map':
        d.map = flag(mw, mv);
        if (d.map) d.verify = true;
        break;
      case 'timeout':
        d.timeoutMs = timeout(mw, mv);
        break;
      case 'handshake_first':
      case 'first':
      case 'immediate': {
        const h = handshakeFirst(mw, mv);
        d.handshakeFirst = h.on;
        d.handshakeFirstFallbackMs = h.fallbackMs;
        break;
      }
      case 'cipher_suites':
        d.ciphers = list(mw, mv, 'cipher suite names')
          .map((name) => {
            if (!Object.hasOwn(CIPHERS, name)) {
              throw fail(
                mw,
                `unrecognized cipher ${name} (herald accepts Go's secure suites: ${Object.keys(CIPHERS).join(', ')})`,
              );
            }
            return CIPHERS[name]!;
          })
          .filter((c): c is string => c !== null);
        break;
      case 'curve_preferences':
        d.curves = list(mw, mv, 'curve names').map((name) => {
          if (!Object.hasOwn(CURVES, name))
            throw fail(mw, `unrecognized curve preference ${name} (herald accepts ${Object.keys(CURVES).join(', ')})`);
          return CURVES[name]!;
        });
        break;
      case 'allow_insecure_cipher_suites':
        // Accepted for compatibility: herald's cipher table has only secure suites, so there is
        // nothing this could allow.
        flag(mw, mv);
        break;
      case 'min_version': {
        const t = typeof mv === 'string' ? mv.trim() : '';
        if (t === '1.2') d.minVersion = 'TLSv1.2';
        else if (t === '1.3') d.minVersion = 'TLSv1.3';
        else if (t === '1.0' || t === '1.1') throw fail(mw, `unsupported TLS version: TLS ${t}`);
        else throw bad(mw, '"1.2" or "1.3"', mv);
        break;
      }
      case 'pinned_certs':
        if (!Array.isArray(mv)) throw bad(mw, 'a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo', mv);
        d.pinnedCerts = mv.map((e) => {
          const s = typeof e === 'string' ? e.toLowerCase() : '';
          if (!/^[a-f0-9]{64}$/.test(s)) {
            throw fail(mw, `${describeValue(e)} does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo`);
          }
          return s;
        });
        if (d.pinnedCerts.length === 0) d.pinnedCerts = null;
        break;
      default:
        if (Object.hasOwn(REFUSED_TLS_KEYS, k)) throw fail(mw, REFUSED_TLS_KEYS[k]!);
        // nats-server: "error parsing tls config, unknown field".
        throw fail(mw, `unknown field '${mw.key}' in the tls block`);
    }
  }
  if (d.certFile === undefined && d.keyFile !== undefined) throw fail(w, "missing 'cert_file' in TLS configuration");
  if (d.certFile !== undefined && d.keyFile === undefined) throw fail(w, "missing 'key_file' in TLS configuration");
  if (d.certFile === undefined || d.keyFile === undefined) {
    throw fail(w, "a server needs 'cert_file' and 'key_file' (herald does not serve TLS without a certificate)");
  }
  const s: TlsSettings = {
    certFile: d.certFile,
    keyFile: d.keyFile,
    caFile: d.caFile ?? null,
    verify: d.verify,
    map: d.map,
    timeoutMs: d.timeoutMs,
    handshakeFirst: d.handshakeFirst,
    handshakeFirstFallbackMs: d.handshakeFirstFallbackMs,
    allowNonTls: false,
    ciphers: d.ciphers,
    curves: d.curves,
    minVersion: d.minVersion,
    pinnedCerts: d.pinnedCerts,
  };
  try {
    secureContextOptions(s);
  } catch (err) {
    throw fail(w, (err as Error).message);
  }
  return s;
}

/**
 * TLS settings from nats-server's flags (opts.go overrideTLS): `--tlscert`, `--tlskey` required;
 * `--tlscacert`, `--tlsverify` optional; everything else at its default. Throws nats-server's texts.
 */
export function tlsFromFlags(f: { cert?: string; key?: string; ca?: string; verify?: boolean }): TlsSettings {
  if (f.cert === undefined || f.cert === '')
    throw new ConfigError('TLS Server certificate must be present and valid', { key: '--tlscert' });
  if (f.key === undefined || f.key === '')
    throw new ConfigError('TLS Server private key must be present and valid', { key: '--tlskey' });
  const s: TlsSettings = {
    certFile: f.cert,
    keyFile: f.key,
    caFile: f.ca ?? null,
    verify: f.verify === true,
    map: false,
    timeoutMs: DEFAULT_TLS_TIMEOUT_MS,
    handshakeFirst: false,
    handshakeFirstFallbackMs: 0,
    allowNonTls: false,
    ciphers: null,
    curves: null,
    minVersion: 'TLSv1.2',
    pinnedCerts: null,
  };
  try {
    secureContextOptions(s);
  } catch (err) {
    throw new ConfigError((err as Error).message, { key: '--tlscert' });
  }
  return s;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read the ${what} ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * The `tls.createSecureContext` options for `s`, with the files read. Throws an Error naming the
 * file when one cannot be read or the certificate and key do not load (nats-server:
 * "error parsing X509 certificate/key pair").
 */
export function secureContextOptions(
  s: Pick<TlsSettings, 'certFile' | 'keyFile' | 'caFile' | 'ciphers' | 'curves' | 'minVersion'>,
): tls.SecureContextOptions {
  const o: tls.SecureContextOptions = {
    cert: readPem(s.certFile, 'certificate file'),
    key: readPem(s.keyFile, 'key file'),
    minVersion: s.minVersion,
  };
  if (s.caFile !== null) o.ca = readPem(s.caFile, 'CA file');
  if (s.ciphers !== null) o.ciphers = [...TLS13_SUITES, ...s.ciphers].join(':');
  if (s.curves !== null) o.ecdhCurve = s.curves.join(':');
  try {
    tls.createSecureContext(o);
  } catch (err) {
    throw new Error(`error parsing X509 certificate/key pair: ${(err as Error).message}`);
  }
  return o;
}

/**
 * TLS of the Redis door, as redis-server's `tls-port`, `tls-cert-file`, `tls-key-file`,
 * `tls-ca-cert-file`, `tls-auth-clients` (redis.conf). Redis does TLS from the first byte.
 * Guarantees: certFile/keyFile set; authClients 'yes' needs caFile.
 */
export interface RedisTlsSettings {
  /** Port of the TLS listener (0 = any free port); the plaintext `redis_port` is separate. */
  readonly port: number;
  readonly certFile: string | null;
  readonly keyFile: string | null;
  readonly caFile: string | null;
  /** Redis `tls-auth-clients`: 'yes' (default) requires a client certificate signed by caFile,
   * 'optional' checks one if given, 'no' asks for none. */
  readonly authClients: 'yes' | 'no' | 'optional';
}

/** Reads `redis_tls { port, cert_file, key_file, ca_file, auth_clients }` (Redis's `tls-*` names also accepted). */
export function parseRedisTlsBlock(v: ConfValue, w: TlsWhere): RedisTlsSettings {
  let port: number | undefined;
  let certFile: string | null = null;
  let keyFile: string | null = null;
  let caFile: string | null = null;
  let authClients: RedisTlsSettings['authClients'] = 'yes';
  for (const [k, mv, mw] of mapEntries(w, v, 'a map such as { port: 6380, cert_file: server.pem, key_file: server-key.pem }')) {
    switch (k.replace(/-/g, '_')) {
      case 'port':
      case 'tls_port': {
        const n = typeof mv === 'number' ? mv : Number.NaN;
        if (!Number.isInteger(n) || n < -1 || n > MAX_PORT)
          throw bad(mw, `a port from 1 to ${MAX_PORT}, or -1/0 for a random port`, mv);
        port = n < 0 ? 0 : n;
        break;
      }
      case 'cert_file':
      case 'tls_cert_file':
        certFile = file(mw, mv);
        break;
      case 'key_file':
      case 'tls_key_file':
        keyFile = file(mw, mv);
        break;
      case 'ca_file':
      case 'ca_cert_file':
      case 'tls_ca_cert_file':
        caFile = file(mw, mv);
        break;
      case 'auth_clients':
      case 'tls_auth_clients': {
        const t = typeof mv === 'boolean' ? (mv ? 'yes' : 'no') : typeof mv === 'string' ? mv.toLowerCase() : '';
        if (t !== 'yes' && t !== 'no' && t !== 'optional') throw bad(mw, 'yes, no or optional', mv);
        authClients = t;
        break;
      }
      default:
        throw fail(
          mw,
          `unknown field '${mw.key}' in the redis_tls block (herald reads port, cert_file, key_file, ca_file, auth_clients)`,
        );
    }
  }
  if (port === undefined) throw fail(w, "the redis_tls block needs 'port' (Redis's tls-port)");
  return { port, certFile, keyFile, caFile, authClients };
}
