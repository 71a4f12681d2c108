/**
 * Maps a parsed NATS-conf object (nats-server's keys plus herald's own) onto `ServerOptions`,
 * and validates a finished `ServerOptions`. Semantics follow nats-server's server/opts.go where
 * a key exists there: `port: -1` is a random port and `port: 0` the default 4222; `http_port: 0`
 * turns monitoring off; numbers given for durations are seconds (with a warning); keys are
 * case-insensitive. nats-server keys herald does not implement are ignored with a warning; an
 * unknown key is an error, as in nats-server; keys whose silent omission would weaken security (unsupported tls keys, authentication credentials, encryption
 * keys) are errors.
 */
import { ConfigError, describeValue, formatLocation, type ConfLocation } from './errors.js';
import {
  confLocation,
  isUsedVariable,
  parseNatsConfFile,
  type ConfMap,
  type ConfParseOptions,
  type ConfValue,
} from './nats-conf.js';
import { UNLIMITED_CONNECTIONS, type ServerOptions } from './options.js';
import { parseAuthorization, parseNoAuthUser, validateAuth } from './auth-conf.js';
import { parseRedisTlsBlock, parseTlsBlock, secureContextOptions } from './tls-conf.js';
import { parseAccounts, parseSystemAccount, validateAccounts, withAccountUsers } from './accounts-conf.js';
import { parseMappings } from './mappings-conf.js';
import {
  closest,
  formatDuration,
  formatSize,
  isLogFormat,
  isLogLevel,
  LOG_FORMATS,
  LOG_LEVELS,
  MAX_PORT,
  parseGoDuration,
  parseIntText,
  parseSizeText,
  parseSyncText,
  splitHostPort,
  SYNC_ALLOWED,
} from './values.js';

/** Options after a config file was applied, and what was ignored or questionable in it. */
export interface LoadResult {
  options: ServerOptions;
  /** One line per ignored key or doubtful value, each starting with `file:line:column:`. */
  warnings: string[];
  /** The file set the auth timeout itself (`authorization { timeout }`); else it is derived from TLS. */
  authTimeoutSet?: boolean;
}

/** What port 0 means in a nats conf or nats-server flag: nats-server's DEFAULT_PORT. */
export const NATS_DEFAULT_PORT = 4222;
/** nats-server stores max_payload and max_control_line as int32; larger values are errors there. */
export const MAX_INT32 = 2 ** 31 - 1;
/** nats-server's MAX_PAYLOAD_MAX_SIZE: above this it warns that max_payload is too large. */
export const MAX_PAYLOAD_WARN_SIZE = 8 * 1024 * 1024;
/** nats-server refuses a lame_duck_duration under 30 s in a conf file (the API takes less, for tests). */
const MIN_LAME_DUCK_DURATION_MS = 30_000;
/** Host that an empty host (`listen: ":4222"`) means, as in nats-server. */
const ANY_HOST = '0.0.0.0';

/** Where a value sits: its container and key (for the location) and its dotted path (for messages). */
interface Where {
  container: object;
  key: string;
  path: string;
}

/** Mutable state while one config object is applied. */
interface Ctx {
  o: ServerOptions;
  warnings: string[];
  debug?: boolean;
  trace?: boolean;
  logLevel?: ServerOptions['logLevel'];
  /** Path of the key that set the data directory, to report a second one. */
  dataDirFrom?: string;
  /** `authorization.timeout` was given (else a TLS config lengthens the default, as nats-server). */
  authTimeoutSet?: boolean;
  /** Top-level `allow_non_tls`, applied to the tls block once every key is read. */
  allowNonTls?: { value: boolean; w: Where };
}

type Handler = (c: Ctx, v: ConfValue, w: Where) => void;

function loc(w: Where): ConfLocation | undefined {
  return confLocation(w.container, w.key);
}

function bad(w: Where, allowed: string, v: ConfValue): ConfigError {
  return new ConfigError(`${w.path}: expected ${allowed}, got ${describeValue(v)}`, { location: loc(w), key: w.path });
}

function fail(w: Where, message: string): ConfigError {
  return new ConfigError(`${w.path}: ${message}`, { location: loc(w), key: w.path });
}

function warn(c: Ctx, w: Where, message: string): void {
  const l = loc(w);
  c.warnings.push(`${l === undefined ? '' : `${formatLocation(l)}: `}${message}`);
}

// ---- value coercion ----

function str(w: Where, v: ConfValue, allowed = 'a string'): string {
  if (typeof v === 'string') return v;
  throw bad(w, allowed, v);
}

function nonEmpty(w: Where, v: ConfValue, allowed: string): string {
  const s = str(w, v, allowed);
  if (s.trim() === '') throw bad(w, allowed, v);
  return s;
}

function int(w: Where, v: ConfValue, allowed: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? parseIntText(v) : undefined;
  if (n === undefined || !Number.isInteger(n) || n < min || n > max) throw bad(w, allowed, v);
  return n;
}

function bool(w: Where, v: ConfValue): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (['true', 'yes', 'on'].includes(t)) return true;
    if (['false', 'no', 'off'].includes(t)) return false;
  }
  throw bad(w, 'true or false', v);
}

/** A size: an integer (unquoted suffixes as nats-server reads them) or a quoted size like "1MB". */
function size(w: Where, v: ConfValue, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const allowed = `a size in bytes from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'any' : max} (e.g. 1048576, 1MB, "64MB")`;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? parseSizeText(v) : undefined;
  if (n === undefined || !Number.isInteger(n) || n < min || n > max) throw bad(w, allowed, v);
  return n;
}

/** A duration in ms: a Go duration string, or a number of seconds (accepted with a warning, as nats-server does). */
function duration(c: Ctx, w: Where, v: ConfValue): number {
  const allowed = 'a duration such as "2m", "10s" or "500ms"';
  let ms: number | undefined;
  if (typeof v === 'string') ms = parseGoDuration(v);
  else if (typeof v === 'number') {
    ms = v * 1000;
    warn(
      c,
      w,
      `${w.path}: the number ${v} is read as ${v} seconds; write a quoted duration such as "${v}s" (an unquoted 2m is the number 2000000)`,
    );
  }
  if (ms === undefined || !(ms > 0) || !Number.isFinite(ms)) throw bad(w, `${allowed}, greater than zero`, v);
  return ms;
}

const PORT_ALLOWED = `a port from 1 to ${MAX_PORT}, -1 for a random port or 0 for the default ${NATS_DEFAULT_PORT}`;
const OPTIONAL_PORT_ALLOWED = `a port from 1 to ${MAX_PORT}, -1 for a random port, or 0/false to turn it off`;

/** A client port in nats-server's terms: -1 random (→ 0), 0 default (→ 4222). */
function natsPort(w: Where, v: ConfValue): number {
  const n = int(w, v, PORT_ALLOWED, -1, MAX_PORT);
  return n === -1 ? 0 : n === 0 ? NATS_DEFAULT_PORT : n;
}

/** A port that can be off, in nats-server's terms for `http_port`: -1 random (→ 0), 0 off (→ null). */
function optionalPort(w: Where, v: ConfValue): number | null {
  if (v === false) return null;
  if (typeof v === 'string' && ['off', 'disabled', 'none'].includes(v.trim().toLowerCase())) return null;
  const n = int(w, v, OPTIONAL_PORT_ALLOWED, -1, MAX_PORT);
  return n === -1 ? 0 : n === 0 ? null : n;
}

/** `port` or `host:port`, as `listen` and `http` take them. */
function hostPort(w: Where, v: ConfValue, allowedPort: string): { host?: string; port: number } {
  const allowed = `a port or host:port such as 127.0.0.1:4222 (${allowedPort})`;
  if (typeof v === 'number') return { port: v };
  if (typeof v === 'string') {
    if (/^\s*-?\d+\s*$/.test(v)) return { port: Number(v) };
    const hp = splitHostPort(v.trim());
    if (hp !== undefined) return { host: hp.host === '' ? ANY_HOST : hp.host, port: hp.port };
  }
  throw bad(w, allowed, v);
}

function setDataDir(c: Ctx, w: Where, v: ConfValue): void {
  const dir = nonEmpty(w, v, 'a directory path');
  if (c.dataDirFrom !== undefined && c.dataDirFrom !== w.path) {
    throw fail(w, `the data directory is already set by '${c.dataDirFrom}'; keep only one of them`);
  }
  c.dataDirFrom = w.path;
  c.o.dataDir = dir;
}

function setSync(w: Where, v: ConfValue, c: Ctx): void {
  if (typeof v === 'number') {
    c.o.sync = { kind: 'interval', ms: duration(c, w, v) };
    return;
  }
  const p = typeof v === 'string' ? parseSyncText(v) : undefined;
  if (p === undefined) throw bad(w, SYNC_ALLOWED, v);
  c.o.sync = p;
}

function child(w: Where, container: object, key: string): Where {
  return { container, key, path: `${w.path}.${key}` };
}

/** Iterates a map value's entries with lower-cased keys, or throws naming what was expected. */
function entries(w: Where, v: ConfValue, allowed: string): [string, ConfValue, Where][] {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date) throw bad(w, allowed, v);
  return Object.keys(v).map((k) => [k.toLowerCase(), v[k]!, child(w, v, k)]);
}

// ---- keys ----

/** Why herald refuses a key instead of ignoring it: ignoring it would leave the server less safe than configured. */
const REJECTED: Readonly<Record<string, string>> = {};

/** JWT/operator-mode keys: refused, since without them every client would connect unchecked (nats-server opts.go, trusted operators). */
const JWT_AUTH = [
  'operator',
  'operators',
  'roots',
  'root',
  'root_operators',
  'root_operator',
  'resolver',
  'account_resolver',
  'accounts_resolver',
  'resolver_tls',
  'resolver_preload',
  'resolver_pinned_accounts',
  'trusted',
  'trusted_keys',
];
for (const k of JWT_AUTH) {
  (REJECTED as Record<string, string>)[k] =
    'herald has no JWT/operator mode and no client authentication; remove it (keeping it would let every client in unchecked)';
}

/** Keys nats-server knows that herald ignores, with the reason given in the warning. */
const IGNORED: Readonly<Record<string, string>> = (() => {
  const m: Record<string, string> = {};
  const add = (keys: string[], why: string): void => keys.forEach((k) => (m[k] = why));
  add(['leafnodes', 'leaf'], 'herald has no leaf node listener');
  add(['websocket', 'ws'], 'herald has no WebSocket listener');
  add(['mqtt'], 'herald has no MQTT listener');
  add(
    [
      'cluster',
      'gateway',
      'routes',
      'server_tags',
      'server_metadata',
      'client_advertise',
      'connect_error_reports',
      'reconnect_error_reports',
    ],
    'herald runs as a single server (no clustering)',
  );
  add(
    ['no_system_account', 'no_system', 'no_sys_acc', 'default_sentinel'],
    'herald always has a system account (it holds only what system users subscribe to)',
  );
  add(
    ['logfile', 'log_file', 'logfile_size_limit', 'log_size_limit', 'logfile_max_num', 'log_max_num', 'syslog', 'remote_syslog'],
    'herald logs to stderr; redirect it to keep a log file',
  );
  add(['pidfile', 'pid_file'], 'herald writes no PID file');
  add(['prof_port', 'prof_block_rate'], 'herald has no profiling port');
  add(
    [
      'max_subscriptions',
      'max_subs',
      'max_sub_tokens',
      'max_subscription_tokens',
      'max_traced_msg_len',
      'max_closed_clients',
      'disable_sublist_cache',
      'no_sublist_cache',
      'no_header_support',
      'write_timeout',
      'proxy_protocol',
      'proxies',
      'ocsp',
      'ocsp_cache',
      'feature_flags',
      'default_js_domain',
      'no_fast_producer_stall',
      'http_base_path',
    ],
    'herald does not implement this nats-server setting',
  );
  return m;
})();

/** Keys of `jetstream { }` that ask for encryption at rest: refused, since ignoring them would store data in clear. */
/** nats-server `jetstream {}` keys herald accepts and ignores (clustering, domains, tuning of
 * things herald does not have); any other unknown key is an error. */
const JS_IGNORED: readonly string[] = [
  'domain',
  'extension_hint',
  'limits',
  'unique_tag',
  'max_outstanding_catchup',
  'max_catchup',
  'max_buffered_msgs',
  'max_buffered_size',
  'request_queue_limit',
  'strict',
  'compress_ok',
];

const JS_ENCRYPTION = ['key', 'ek', 'encryption_key', 'prev_key', 'prev_ek', 'prev_encryption_key', 'cipher', 'tpm'];

/** `authorization { token | user/password | users [...], timeout, permissions }` (src/config/auth-conf.ts). */
const authorization: Handler = (c, v, w) => {
  c.o.auth = parseAuthorization(v, w, c.o.auth, {
    timeout: (tv, tw) => {
      c.o.authTimeoutMs = authTimeout(tw, tv);
      c.authTimeoutSet = true;
    },
    warn: (ww, message) => warn(c, ww, message),
  });
};

/** `accounts { }` (src/config/accounts-conf.ts): declarations into `accounts`, users into `auth`. */
const accounts: Handler = (c, v, w) => {
  const parsed = parseAccounts(v, w, { warn: (ww, message) => warn(c, ww, message) });
  c.o.accounts = { ...c.o.accounts, accounts: parsed.accounts };
  c.o.auth = withAccountUsers(c.o.auth, parsed.users);
};

/** Top-level `mappings { }` (src/config/mappings-conf.ts): they apply to `$G`, as nats-server's opts.go. */
const mappings: Handler = (c, v, w) => {
  const globalMappings = parseMappings(v, w, (ww, message) => warn(c, ww, message));
  c.o.accounts = { ...c.o.accounts, globalMappings };
};

/** `authorization.timeout`: seconds (integer or float) or a duration string, as nats-server reads it. */
function authTimeout(w: Where, v: ConfValue): number {
  const ms = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? parseGoDuration(v) : undefined;
  if (ms === undefined || !(ms > 0) || !Number.isFinite(ms))
    throw bad(w, 'seconds (e.g. 2 or 0.5) or a duration such as "2s"', v);
  return ms;
}

const STORE_LIMIT = (w: Where, v: ConfValue): number => size(w, v, -1);

const jetstream: Handler = (c, v, w) => {
  if (typeof v === 'boolean') {
    c.o.jetstream = v;
    return;
  }
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'enabled' || t === 'enable') c.o.jetstream = true;
    else if (t === 'disabled' || t === 'disable') c.o.jetstream = false;
    else throw bad(w, "true, false, 'enabled', 'disabled' or a map { store_dir, max_file_store, max_mem_store }", v);
    return;
  }
  let enable = true;
  for (const [k, mv, mw] of entries(
    w,
    v,
    "true, false, 'enabled', 'disabled' or a map { store_dir, max_file_store, max_mem_store }",
  )) {
    switch (k) {
      case 'enabled':
      case 'enable':
        enable = bool(mw, mv);
        break;
      case 'store_dir':
      case 'store':
      case 'storedir':
        setDataDir(c, mw, mv);
        break;
      case 'max_file_store':
      case 'max_file':
        c.o.maxFileStore = STORE_LIMIT(mw, mv);
        break;
      case 'max_memory_store':
      case 'max_mem_store':
      case 'max_mem':
        c.o.maxMemStore = STORE_LIMIT(mw, mv);
        break;
      case 'sync':
      case 'sync_interval':
        setSync(mw, mv, c);
        break;
      default:
        if (JS_ENCRYPTION.includes(k)) {
          throw fail(
            mw,
            'herald does not implement encryption at rest; remove the key (keeping it would store data unencrypted)',
          );
        }
        // nats-server refuses an unknown field here too: a misspelt max_file_store ignored would
        // silently lift the server's budget (review 3, R3-6). Its keys herald does not use warn.
        if (isUsedVariable(mw.container, mw.key)) break;
        if (!JS_IGNORED.includes(k)) throw fail(mw, `unknown field "${mw.key}" in the jetstream block`);
        warn(c, mw, `'${mw.path}' is ignored: herald does not implement this JetStream setting`);
    }
  }
  c.o.jetstream = enable;
};

const listen: Handler = (c, v, w) => {
  const hp = hostPort(w, v, PORT_ALLOWED);
  if (hp.host !== undefined) c.o.host = hp.host;
  c.o.port = natsPort(w, hp.port);
};

const http: Handler = (c, v, w) => {
  const hp = hostPort(w, v, OPTIONAL_PORT_ALLOWED);
  if (hp.host !== undefined) c.o.httpHost = hp.host;
  c.o.httpPort = optionalPort(w, hp.port);
};

/** `https: host:port`: monitoring over HTTPS (nats-server opts.go, "https"). */
const https: Handler = (c, v, w) => {
  const hp = hostPort(w, v, OPTIONAL_PORT_ALLOWED);
  if (hp.host !== undefined) c.o.httpHost = hp.host;
  c.o.httpsPort = optionalPort(w, hp.port);
  if (c.o.httpsPort !== null) c.o.httpPort = null;
};

const httpsPort: Handler = (c, v, w) => {
  c.o.httpsPort = optionalPort(w, v);
  // herald's own defaults open plain HTTP monitoring; asking for HTTPS replaces it.
  if (c.o.httpsPort !== null) c.o.httpPort = null;
};

const host: Handler = (c, v, w) => {
  c.o.host = nonEmpty(w, v, 'a host name or IP address such as 127.0.0.1');
};

const httpPort: Handler = (c, v, w) => {
  c.o.httpPort = optionalPort(w, v);
};

const maxConnections: Handler = (c, v, w) => {
  const n = int(w, v, 'a whole number of connections (0 = unlimited)', Number.MIN_SAFE_INTEGER);
  c.o.maxConnections = n <= 0 ? UNLIMITED_CONNECTIONS : n;
};

const maxSubs: Handler = (c, v, w) => {
  const n = int(w, v, 'a whole number of subscriptions per connection (0 = unlimited)', Number.MIN_SAFE_INTEGER);
  c.o.maxSubs = n <= 0 ? 0 : n;
};

const maxPings: Handler = (c, v, w) => {
  c.o.maxPingsOut = int(w, v, 'a whole number of unanswered PINGs, 0 or more', 0);
};

const storeDir: Handler = (c, v, w) => setDataDir(c, w, v);

const debug: Handler = (c, v, w) => {
  c.debug = bool(w, v);
};
const trace: Handler = (c, v, w) => {
  c.trace = bool(w, v);
};
/** Accepted for nats-server compatibility; herald's log lines always carry a timestamp. */
const noEffectBool: Handler = (_c, v, w) => {
  bool(w, v);
};

/** Every key herald applies, lower-case. */
const HANDLERS: Readonly<Record<string, Handler>> = {
  host,
  net: host,
  port: (c, v, w) => {
    c.o.port = natsPort(w, v);
  },
  listen,
  http,
  http_port: httpPort,
  monitor_port: httpPort,
  http_host: (c, v, w) => {
    c.o.httpHost = nonEmpty(w, v, 'a host name or IP address such as 127.0.0.1');
  },
  ports_file_dir: (c, v, w) => {
    c.o.portsFileDir = nonEmpty(w, v, 'a directory path');
  },
  server_name: (c, v, w) => {
    const s = str(w, v, 'a name without spaces');
    if (/\s/.test(s)) throw bad(w, 'a name without spaces', v);
    c.o.serverName = s;
  },
  max_payload: (c, v, w) => {
    c.o.maxPayload = size(w, v, 1, MAX_INT32);
  },
  max_pending: (c, v, w) => {
    c.o.maxPending = size(w, v, 1);
  },
  max_outbound: (c, v, w) => {
    c.o.maxOutbound = size(w, v, -1);
  },
  max_connections: maxConnections,
  max_subs: maxSubs,
  max_subscriptions: maxSubs,
  max_conn: maxConnections,
  max_control_line: (c, v, w) => {
    c.o.maxControlLine = size(w, v, 1, MAX_INT32);
  },
  ping_interval: (c, v, w) => {
    c.o.pingIntervalMs = duration(c, w, v);
  },
  ping_max: maxPings,
  max_pings_out: maxPings,
  write_deadline: (c, v, w) => {
    c.o.writeDeadlineMs = duration(c, w, v);
  },
  lame_duck_duration: (c, v, w) => {
    const ms = duration(c, w, v);
    // nats-server opts.go: "invalid lame_duck_duration of …, minimum is 30 seconds".
    if (ms < MIN_LAME_DUCK_DURATION_MS) throw fail(w, `invalid lame_duck_duration of ${v}, minimum is 30 seconds`);
    c.o.lameDuckDurationMs = ms;
  },
  lame_duck_grace_period: (c, v, w) => {
    c.o.lameDuckGracePeriodMs = duration(c, w, v);
  },
  authorization,
  no_auth_user: (c, v, w) => {
    c.o.auth = parseNoAuthUser(v, w, c.o.auth);
  },
  accounts,
  mappings,
  maps: mappings,
  system_account: (c, v, w) => {
    c.o.accounts = { ...c.o.accounts, systemAccount: parseSystemAccount(v, w) };
  },
  system: (c, v, w) => {
    c.o.accounts = { ...c.o.accounts, systemAccount: parseSystemAccount(v, w) };
  },
  debug,
  trace,
  trace_verbose: trace,
  trace_headers: trace,
  logtime: noEffectBool,
  logtime_utc: noEffectBool,
  jetstream,
  store_dir: storeDir,
  storedir: storeDir,
  data_dir: storeDir,
  sync: (c, v, w) => setSync(w, v, c),
  log_level: (c, v, w) => {
    const s = typeof v === 'string' ? v.trim().toLowerCase() : '';
    if (!isLogLevel(s)) throw bad(w, `one of ${LOG_LEVELS.join(', ')}`, v);
    c.logLevel = s;
  },
  log_format: (c, v, w) => {
    const s = typeof v === 'string' ? v.trim().toLowerCase() : '';
    if (!isLogFormat(s)) throw bad(w, `one of ${LOG_FORMATS.join(', ')}`, v);
    c.o.logFormat = s;
  },
  redis_port: (c, v, w) => {
    c.o.redisPort = optionalPort(w, v);
  },
  tls: (c, v, w) => {
    c.o.tls = parseTlsBlock(v, w);
  },
  allow_non_tls: (c, v, w) => {
    c.allowNonTls = { value: bool(w, v), w };
  },
  https,
  https_port: httpsPort,
  redis_tls: (c, v, w) => {
    c.o.redisTls = parseRedisTlsBlock(v, w);
  },
  redis_store: (c, v, w) => {
    const s = typeof v === 'string' ? v.trim().toLowerCase() : '';
    if (s !== 'file' && s !== 'memory') throw bad(w, "'file' or 'memory'", v);
    c.o.redisStore = s;
  },
};

/**
 * What depends on more than one key, once every key is read: `allow_non_tls` and the auth
 * timeout (nats-server getDefaultAuthTimeout: TLS timeout + 1 s when TLS is on), and the Redis
 * TLS listener's certificate (the NATS door's when its block names none).
 */
function finishTls(c: Ctx, conf: ConfMap): void {
  const t = c.o.tls;
  if (c.allowNonTls !== undefined) {
    if (t === null) warn(c, c.allowNonTls.w, "'allow_non_tls' is ignored: there is no tls block");
    else c.o.tls = { ...t, allowNonTls: c.allowNonTls.value };
  }
  if (t !== null && c.authTimeoutSet !== true) c.o.authTimeoutMs = t.timeoutMs + 1000;
  const r = c.o.redisTls;
  if (r === null) return;
  const key = Object.keys(conf).find((k) => k.toLowerCase() === 'redis_tls') ?? 'redis_tls';
  const w: Where = { container: conf, key, path: key };
  const certFile = r.certFile ?? t?.certFile ?? null;
  const keyFile = r.keyFile ?? t?.keyFile ?? null;
  if (certFile === null || keyFile === null) {
    throw fail(w, "needs 'cert_file' and 'key_file' (Redis's tls-cert-file and tls-key-file), or a tls block to take them from");
  }
  if (r.authClients !== 'no' && r.caFile === null) {
    throw fail(
      w,
      "auth_clients (Redis's tls-auth-clients, default yes) checks client certificates against 'ca_file': give ca_file, or auth_clients: no",
    );
  }
  try {
    secureContextOptions({ certFile, keyFile, caFile: r.caFile, ciphers: null, curves: null, minVersion: 'TLSv1.2' });
  } catch (err) {
    throw fail(w, (err as Error).message);
  }
  c.o.redisTls = { ...r, certFile, keyFile };
}

/** Every top-level key herald reads from a config file (lower-case), for docs and tests. */
export const CONFIG_KEYS: readonly string[] = Object.keys(HANDLERS);

/**
 * Applies a parsed config object on top of `base` (which is not modified). Guarantees: the
 * result has every field set; every key is either applied, ignored with a warning naming it (a nats-server key herald
 * does not implement and whose absence weakens nothing), or rejected with a `ConfigError` naming the key, the value and what is allowed (with file:line
 * when the object came from the parser). Does not run `validateOptions`.
 */
export function applyNatsConf(conf: ConfMap, base: ServerOptions): LoadResult {
  const c: Ctx = { o: { ...base, sync: { ...base.sync } }, warnings: [] };
  for (const key of Object.keys(conf)) {
    const k = key.toLowerCase();
    const w: Where = { container: conf, key, path: key };
    const v = conf[key]!;
    // Object.hasOwn: a key such as `__proto__` or `constructor` must not reach Object.prototype.
    if (Object.hasOwn(HANDLERS, k)) HANDLERS[k]!(c, v, w);
    else if (Object.hasOwn(REJECTED, k)) throw fail(w, REJECTED[k]!);
    else if (Object.hasOwn(IGNORED, k)) warn(c, w, `'${key}' is ignored: ${IGNORED[k]}`);
    else if (!isUsedVariable(conf, key)) {
      // nats-server opts.go processConfigFileLine refuses an unknown top-level field; so does herald,
      // because a misspelt `authorization` or `accounts` ignored would leave the server open.
      const hint = closest(k, CONFIG_KEYS);
      throw fail(w, `unknown field "${key}"${hint === undefined ? '' : ` (did you mean '${hint}'?)`}`);
    }
  }
  finishTls(c, conf);
  if (c.logLevel !== undefined) c.o.logLevel = c.logLevel;
  else if (c.trace === true) c.o.logLevel = 'trace';
  else if (c.debug === true) c.o.logLevel = 'debug';
  return { options: c.o, warnings: c.warnings, authTimeoutSet: c.authTimeoutSet === true };
}

/**
 * Reads, parses and applies a config file on top of `base`. Throws `ConfigError` for an
 * unreadable file, a syntax error or a bad value; returns warnings for ignored keys.
 */
export function loadConfigFile(path: string, base: ServerOptions, parseOptions: Omit<ConfParseOptions, 'file'> = {}): LoadResult {
  return applyNatsConf(parseNatsConfFile(path, parseOptions), base);
}

// ---- whole-options validation ----

function check(ok: boolean, field: string, value: unknown, allowed: string): void {
  if (!ok)
    throw new ConfigError(`option ${field}: expected ${allowed}, got ${describeValue(value as ConfValue)}`, { key: field });
}

/** Whether two listen hosts can clash on one port (the same host, or either is a wildcard). */
function sameInterface(a: string, b: string): boolean {
  const wildcard = (h: string): boolean => h === ANY_HOST || h === '::' || h === '[::]';
  return a === b || wildcard(a) || wildcard(b);
}

function isInt(v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function isPositive(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

function isNonEmpty(v: unknown): boolean {
  return typeof v === 'string' && v.trim() !== '';
}

/**
 * Checks a complete `ServerOptions` (from any source: flags, files, or an embedding program).
 * Throws `ConfigError` naming the first bad field, the value and what is allowed, or a pair of
 * fields that conflict (max_payload above max_pending; two doors on one port). Returns warnings
 * for legal but doubtful settings.
 */
export function validateOptions(o: ServerOptions): string[] {
  const warnings: string[] = [];
  const port = `an integer port from 0 to ${MAX_PORT} (0 = random)`;
  check(isNonEmpty(o.host), 'host', o.host, 'a host name or IP address');
  check(isInt(o.port, 0, MAX_PORT), 'port', o.port, port);
  check(isNonEmpty(o.httpHost), 'httpHost', o.httpHost, 'a host name or IP address');
  check(o.httpPort === null || isInt(o.httpPort, 0, MAX_PORT), 'httpPort', o.httpPort, `${port} or null (off)`);
  check(isNonEmpty(o.dataDir), 'dataDir', o.dataDir, 'a directory path');
  check(typeof o.jetstream === 'boolean', 'jetstream', o.jetstream, 'true or false');
  check(isInt(o.maxPayload, 1, MAX_INT32), 'maxPayload', o.maxPayload, `bytes from 1 to ${MAX_INT32}`);
  check(isInt(o.maxPending, 1), 'maxPending', o.maxPending, 'bytes, 1 or more');
  check(
    isInt(o.maxOutbound, -1) && o.maxOutbound !== 0,
    'maxOutbound',
    o.maxOutbound,
    'bytes, or -1 for an eighth of the memory',
  );
  check(isInt(o.maxConnections, 0), 'maxConnections', o.maxConnections, 'a count, or 0 for no limit');
  check(isInt(o.maxSubs, 0), 'maxSubs', o.maxSubs, 'a count, or 0 for no limit');
  check(isInt(o.maxControlLine, 1, MAX_INT32), 'maxControlLine', o.maxControlLine, `bytes from 1 to ${MAX_INT32}`);
  check(isPositive(o.pingIntervalMs), 'pingIntervalMs', o.pingIntervalMs, 'milliseconds, more than 0');
  check(isInt(o.maxPingsOut, 0), 'maxPingsOut', o.maxPingsOut, 'a count, 0 or more');
  check(isPositive(o.authTimeoutMs), 'authTimeoutMs', o.authTimeoutMs, 'milliseconds, more than 0');
  check(isPositive(o.writeDeadlineMs), 'writeDeadlineMs', o.writeDeadlineMs, 'milliseconds, more than 0');
  const s = o.sync as { kind?: unknown; ms?: unknown } | null;
  check(
    s !== null &&
      typeof s === 'object' &&
      (s.kind === 'always' || s.kind === 'never' || (s.kind === 'interval' && isPositive(s.ms))),
    'sync',
    s === null || typeof s !== 'object' ? s : JSON.stringify(s),
    "{kind:'always'}, {kind:'never'} or {kind:'interval', ms > 0}",
  );
  check(isInt(o.maxFileStore, -1), 'maxFileStore', o.maxFileStore, 'bytes, or -1 for unlimited');
  check(isInt(o.maxMemStore, -1), 'maxMemStore', o.maxMemStore, 'bytes, or -1 for unlimited');
  check(o.portsFileDir === null || isNonEmpty(o.portsFileDir), 'portsFileDir', o.portsFileDir, 'a directory path or null');
  check(typeof o.serverName === 'string' && !/\s/.test(o.serverName), 'serverName', o.serverName, 'a name without spaces');
  check(isLogLevel(String(o.logLevel)), 'logLevel', o.logLevel, `one of ${LOG_LEVELS.join(', ')}`);
  check(isLogFormat(String(o.logFormat)), 'logFormat', o.logFormat, `one of ${LOG_FORMATS.join(', ')}`);
  check(o.redisPort === null || isInt(o.redisPort, 0, MAX_PORT), 'redisPort', o.redisPort, `${port} or null (off)`);
  check(o.redisStore === 'file' || o.redisStore === 'memory', 'redisStore', o.redisStore, "'file' or 'memory'");
  validateAuth(o.auth);
  check(o.httpsPort === null || isInt(o.httpsPort, 0, MAX_PORT), 'httpsPort', o.httpsPort, `${port} or null (off)`);
  if (o.httpsPort !== null && o.httpPort !== null) {
    // nats-server StartMonitoring refuses both.
    throw new ConfigError(`can't specify both HTTP (${o.httpPort}) and HTTPs (${o.httpsPort}) ports`, { key: 'httpsPort' });
  }
  check(
    o.redisTls === null || (o.redisTls.certFile !== null && o.redisTls.keyFile !== null),
    'redisTls',
    o.redisTls === null ? null : 'a listener without certFile/keyFile',
    'a listener with certFile and keyFile',
  );
  if (o.httpsPort !== null && o.tls === null) throw new ConfigError('TLS cert and key required for HTTPS', { key: 'httpsPort' });
  if (o.tls !== null && o.tls.map && o.auth.users.length === 0) {
    warnings.push(
      'tls.verify_and_map is set but authorization has no users to map certificates to: every client will be refused',
    );
  }
  validateAccounts(o.accounts, o.auth);
  check(isPositive(o.lameDuckDurationMs), 'lameDuckDurationMs', o.lameDuckDurationMs, 'milliseconds, more than 0');
  check(isPositive(o.lameDuckGracePeriodMs), 'lameDuckGracePeriodMs', o.lameDuckGracePeriodMs, 'milliseconds, more than 0');
  if (o.lameDuckGracePeriodMs >= o.lameDuckDurationMs) {
    // nats-server server.go validateOptions, same text.
    throw new ConfigError(
      `lame duck grace period (${formatDuration(o.lameDuckGracePeriodMs)}) should be strictly lower than lame duck duration (${formatDuration(o.lameDuckDurationMs)})`,
      { key: 'lameDuckGracePeriodMs' },
    );
  }

  if (o.maxPayload > o.maxPending) {
    throw new ConfigError(`max_payload (${o.maxPayload}) cannot be higher than max_pending (${o.maxPending})`, {
      key: 'maxPayload',
    });
  }
  const doors: [string, string, number | null][] = [
    ['port', o.host, o.port],
    ['http_port', o.httpHost, o.httpPort],
    ['https_port', o.httpHost, o.httpsPort],
    ['redis_port', o.host, o.redisPort],
    ['redis_tls.port', o.host, o.redisTls === null ? null : o.redisTls.port],
  ];
  for (let i = 0; i < doors.length; i++) {
    for (let j = i + 1; j < doors.length; j++) {
      const [a, ha, pa] = doors[i]!;
      const [b, hb, pb] = doors[j]!;
      if (pa !== null && pa !== 0 && pa === pb && sameInterface(ha, hb)) {
        throw new ConfigError(`${a} and ${b} are both ${pa}; each listener needs its own port`, { key: b });
      }
    }
  }
  if (o.maxPayload > MAX_PAYLOAD_WARN_SIZE) {
    warnings.push(
      `max_payload (${formatSize(o.maxPayload)}) is above ${formatSize(MAX_PAYLOAD_WARN_SIZE)}; large messages stall every subscriber of a connection (nats-server warns the same)`,
    );
  }
  return warnings;
}
