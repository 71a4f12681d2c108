import os from 'node:os';
import { MonitorQueryError } from './monitor.js';
import { routerTotals, sublistStats } from './accountz.js';
import type { MonitoredServer, SublistStats } from './stats.js';
import type { CpuSampler } from './cpu.js';
import { isValidLiteralSubject } from '../core/subject.js';
import { reaches } from '../core/sublist.js';
import { authRequired } from '../core/auth.js';

/** Default and largest page of /connz, as nats-server. */
const CONNZ_DEFAULT_LIMIT = 1024;
/** Default page of /subsz's list (nats-server monitor.go, DefaultSubListSize). */
const SUBSZ_DEFAULT_LIMIT = 1024;

const NS_PER_MS = 1_000_000;

/** nats-server prints durations like "1h2m3s" / "0s". */
function goDuration(ms: number): string {
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${d > 0 ? d + 'd' : ''}${h > 0 ? h + 'h' : ''}${m > 0 ? m + 'm' : ''}${s}s`;
}

/**
 * Go's time.Duration String() of `ns` nanoseconds ("0s", "850ns", "523µs", "1.234567ms",
 * "1m2.5s"), which nats-server prints for /connz `rtt`.
 */
export function goDurationString(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return '0s';
  const neg = ns < 0;
  if (neg) ns = -ns;
  let out: string;
  if (ns < 1000) out = `${ns}ns`;
  else if (ns < 1_000_000) out = `${fraction(ns, 1000)}µs`;
  else if (ns < 1_000_000_000) out = `${fraction(ns, 1_000_000)}ms`;
  else {
    const h = Math.floor(ns / 3_600_000_000_000);
    const m = Math.floor((ns % 3_600_000_000_000) / 60_000_000_000);
    const sec = fraction(ns % 60_000_000_000, 1_000_000_000);
    out = h > 0 ? `${h}h${m}m${sec}s` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
  }
  return neg ? '-' + out : out;
}

/** `v / unit` with the fraction's trailing zeros dropped, as Go's fmtFrac. */
function fraction(v: number, unit: number): string {
  const whole = Math.floor(v / unit);
  const frac = v % unit;
  if (frac === 0) return String(whole);
  const digits = String(unit).length - 1;
  return `${whole}.${String(frac).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** nats-server monitor.go, getRTT: an RTT under a millisecond is truncated to whole microseconds. */
function rttString(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns > 1000 && ns < 1_000_000) ns -= ns % 1000;
  return goDurationString(ns);
}

/** What /varz says of the monitoring listener itself; null when monitoring is off (a `$SYS` request). */
export interface HttpListenerView {
  readonly port: number;
  readonly secure: boolean;
  readonly stats: Readonly<Record<string, number>>;
}

/**
 * `/varz` and `$SYS.REQ.SERVER.*.VARZ`: server identity, limits and counters, field names as
 * nats-server's. `m` is the monitoring listener (null when it is off: ports 0, no request stats).
 */
export function buildVarz(s: MonitoredServer, m: HttpListenerView | null, cpu: CpuSampler): object {
  const o = s.options;
  const r = s.accounts === undefined ? s.router : routerTotals(s.accounts);
  const now = new Date();
  const cores = os.cpus().length;
  const varz: Record<string, unknown> = {
    server_id: s.serverId,
    server_name: o.serverName || s.serverId,
    version: s.info().version,
    proto: 1,
    go: s.info().go,
    host: o.host,
    port: s.port,
    max_connections: o.maxConnections,
    ping_interval: o.pingIntervalMs * NS_PER_MS,
    ping_max: o.maxPingsOut,
    http_host: o.httpHost,
    http_port: m === null || m.secure ? 0 : m.port,
    http_base_path: '',
    https_port: m !== null && m.secure ? m.port : 0,
    // nats-server omits auth_required when false; credentials themselves are never shown.
    ...(authRequired(o.auth) ? { auth_required: true } : {}),
    // nats-server monitor.go Varz: tls_required / tls_verify omitted when false.
    ...(o.tls !== null && !o.tls.allowNonTls ? { tls_required: true } : {}),
    ...(o.tls?.verify === true ? { tls_verify: true } : {}),
    auth_timeout: o.authTimeoutMs / 1000,
    max_control_line: o.maxControlLine,
    max_payload: o.maxPayload,
    max_pending: o.maxPending,
    cluster: {},
    gateway: {},
    leaf: {},
    mqtt: {},
    websocket: {},
    connect_urls: [],
  };
  if (s.accounts !== undefined) varz.system_account = s.accounts.system.name;
  varz.jetstream = jetStreamVarz(s) ?? {}; // {} as nats-server without JetStream
  Object.assign(varz, {
    // nats-server reports its TLS timeout in seconds, 2 (TLS_TIMEOUT) when TLS is off.
    tls_timeout: (o.tls?.timeoutMs ?? 2000) / 1000,
    write_deadline: o.writeDeadlineMs * NS_PER_MS,
    start: s.startedAt.toISOString(),
    now: now.toISOString(),
    uptime: goDuration(now.getTime() - s.startedAt.getTime()),
    mem: process.memoryUsage().rss,
    cores,
    gomaxprocs: cores,
    cpu: cpu.percent(),
    connections: s.connections.open.size,
    total_connections: s.connections.total,
    routes: 0,
    remotes: 0,
    leafnodes: 0,
    in_msgs: r.inMsgs,
    out_msgs: r.outMsgs,
    in_bytes: r.inBytes,
    out_bytes: r.outBytes,
    slow_consumers: s.slowConsumers,
    subscriptions: r.sublist.count,
    http_req_stats: { ...(m?.stats ?? {}) },
    config_load_time: s.startedAt.toISOString(),
  });
  // herald's own: the Redis door's counters under Redis's names (docs/redis.md, "Counters").
  if (s.redis != null) varz.redis = s.redis.varz();
  return varz;
}

/** nats-server's JetStreamVarz (`{config, stats}`) for /varz and STATSZ; null without JetStream. */
export function jetStreamVarz(s: MonitoredServer): { config: unknown; stats: object } | null {
  if (s.jetstream === null) return null;
  const jsz = s.jetstream.jsz(new URLSearchParams()) as Record<string, unknown>;
  return { config: jsz.config, stats: jsz };
}

/** `/healthz` (nats-server monitor.go, healthz: a standalone server that answers is healthy). */
export function buildHealthz(): object {
  return { status: 'ok' };
}

/** `/jsz`: JetStream usage; without JetStream, nats-server's `disabled: true` with zeroed usage. */
export function buildJsz(s: MonitoredServer, q: URLSearchParams): object {
  const head = { server_id: s.serverId, now: new Date().toISOString() };
  return s.jetstream === null ? { ...head, ...JSZ_DISABLED } : { ...head, ...s.jetstream.jsz(q) };
}

/** nats-server monitor.go Jsz without JetStream: `disabled` and every usage field at zero. */
const JSZ_DISABLED = {
  disabled: true,
  config: { max_memory: 0, max_storage: 0 },
  memory: 0,
  storage: 0,
  reserved_memory: 0,
  reserved_storage: 0,
  accounts: 0,
  ha_assets: 0,
  api: { total: 0, errors: 0 },
  streams: 0,
  consumers: 0,
  messages: 0,
  bytes: 0,
};

/**
 * `/connz`: open (default) or closed connections, paged with `offset`/`limit`; `subs=1` adds
 * `subscriptions_list`, `subs=detail` adds `subscriptions_list_detail`; `acc=<name>` keeps one
 * account's connections (nats-server ConnzOptions.Account).
 */
export function buildConnz(s: MonitoredServer, q: URLSearchParams): object {
  const offset = Math.max(0, Number(q.get('offset') ?? 0) | 0);
  // Capped like nats-server's, so one request cannot build an unbounded reply.
  const limit = Math.min(CONNZ_DEFAULT_LIMIT, Math.max(1, Number(q.get('limit') ?? CONNZ_DEFAULT_LIMIT) | 0));
  const subs = q.get('subs');
  const now = Date.now();
  const cidFilter = q.get('cid');
  const state = q.get('state') ?? 'open';
  // nats-server monitor.go: auth=true adds the authenticated user name (never a token or password).
  const withAuth = goBool(q, 'auth');
  const acc = q.get('acc') ?? '';
  const all: object[] = [];
  if (state === 'open' || state === 'any' || state === 'all') {
    for (const { type, conn: c } of s.connections.open.values()) {
      if (cidFilter !== null && String(c.id) !== cidFilter) continue;
      if (acc !== '' && (c.account ?? GLOBAL_ACCOUNT) !== acc) continue;
      const entry: Record<string, unknown> = {
        cid: c.id,
        kind: 'Client',
        type,
        ip: c.ip,
        port: c.port,
        start: new Date(c.start).toISOString(),
        last_activity: new Date(c.lastActivity).toISOString(),
        ...rttField(c.rttMs),
        uptime: goDuration(now - c.start),
        idle: goDuration(now - c.lastActivity),
        pending_bytes: c.pendingBytes,
        in_msgs: c.inMsgs,
        out_msgs: c.outMsgs,
        in_bytes: c.inBytes,
        out_bytes: c.outBytes,
        subscriptions: c.subs.size,
      };
      if (c.tls != null) {
        // nats-server monitor.go ConnInfo: tls_version / tls_cipher_suite for TLS connections.
        entry.tls_version = c.tls.version;
        entry.tls_cipher_suite = c.tls.cipher;
      }
      if (c.name !== '') entry.name = c.name;
      if (c.lang !== '') entry.lang = c.lang;
      if (c.version !== '') entry.version = c.version;
      if (withAuth && (c.authUser ?? '') !== '') {
        entry.authorized_user = c.authUser;
        entry.account = c.account ?? GLOBAL_ACCOUNT;
      }
      if (subs === 'detail') {
        entry.subscriptions_list_detail = [...c.subs.values()].map((sub) => ({
          subject: sub.subject,
          ...(sub.queue !== null ? { qgroup: sub.queue } : {}),
          sid: sub.sid,
          msgs: sub.delivered,
          ...(sub.max > 0 ? { max: sub.max } : {}),
          cid: c.id,
        }));
      } else if (subs === '1' || subs === 'true') {
        entry.subscriptions_list = [...c.subs.values()].map((sub) => sub.subject);
      }
      all.push(entry);
    }
  }
  if (state === 'closed' || state === 'any' || state === 'all') {
    for (const c of s.connections.closed) {
      if (cidFilter !== null && String(c.cid) !== cidFilter) continue;
      if (acc !== '' && (c.account ?? GLOBAL_ACCOUNT) !== acc) continue;
      all.push({
        cid: c.cid,
        kind: 'Client',
        type: c.type,
        ip: c.ip,
        port: c.port,
        start: new Date(c.start).toISOString(),
        stop: new Date(c.stop).toISOString(),
        reason: c.reason,
        ...rttField(c.rttMs),
        uptime: goDuration(c.stop - c.start),
        in_msgs: c.in_msgs,
        out_msgs: c.out_msgs,
        in_bytes: c.in_bytes,
        out_bytes: c.out_bytes,
        ...(c.name !== '' ? { name: c.name } : {}),
        ...(c.lang !== '' ? { lang: c.lang } : {}),
        ...(c.version !== '' ? { version: c.version } : {}),
      });
    }
  }
  const page = all.slice(offset, offset + limit);
  return {
    server_id: s.serverId,
    now: new Date(now).toISOString(),
    num_connections: page.length,
    total: all.length,
    offset,
    limit,
    connections: page,
  };
}

/** `rtt` as nats-server prints it: "0s" until measured (herald's first estimate is taken at CONNECT). */
function rttField(ms: number): { rtt: string } {
  return { rtt: ms === 0 ? '0s' : rttString(ms) };
}

/**
 * `/subsz`: sublist statistics (fan-out over the cached match results, as nats-server's
 * sublist.go Stats). `subs=1` lists subscriptions, only those a publish to `test=<subject>` would
 * reach when given, paged by `offset`/`limit`; as in nats-server (monitor.go, Subsz) `total` is
 * the size of the page returned. A `test` that is not a valid publish subject is an error.
 */
export function buildSubsz(s: MonitoredServer, q: URLSearchParams): object {
  const subs = goBool(q, 'subs');
  const offset = Math.max(0, goInt(q, 'offset'));
  const askedLimit = goInt(q, 'limit');
  const limit = askedLimit <= 0 ? SUBSZ_DEFAULT_LIMIT : askedLimit;
  const test = q.get('test') ?? '';
  if (test !== '' && !isValidLiteralSubject(test)) {
    throw new MonitorQueryError(`invalid test subject, must be valid publish subject: ${test}`);
  }
  // Without `acc`, nats-server's global `$G`; an account that does not exist filters everything out.
  const acc = q.get('acc') ?? '';
  const sl = acc === '' || acc === GLOBAL_ACCOUNT ? s.router.sublist : (s.accounts?.get(acc)?.router.sublist ?? EMPTY_SUBLIST);
  const stats = sublistStats(sl);
  if (subs) {
    const list = sl
      .all()
      .filter((sub) => test === '' || reaches(sub, test))
      .map((sub) => ({
        account: acc === '' ? GLOBAL_ACCOUNT : acc,
        subject: sub.subject,
        ...(sub.queue !== null ? { qgroup: sub.queue } : {}),
        sid: sub.sid,
        msgs: sub.delivered,
        ...(sub.max > 0 ? { max: sub.max } : {}),
        cid: sub.client.id,
      }));
    const lo = Math.min(offset, list.length);
    const page = list.slice(lo, Math.min(offset + limit, list.length));
    // nats-server (monitor.go, HandleSubsz) answers with the bare statistics when the page is empty.
    if (page.length > 0) {
      return {
        server_id: s.serverId,
        now: new Date().toISOString(),
        ...stats,
        total: page.length,
        offset,
        limit,
        subscriptions_list: page,
      };
    }
  }
  return stats;
}

/** The account every herald client is in, named as nats-server names its global account. */
const GLOBAL_ACCOUNT = '$G';

/** What /subsz reports for an account herald does not have. */
const EMPTY_SUBLIST: SublistStats = {
  count: 0,
  cacheSize: 0,
  cacheHits: 0,
  matches: 0,
  inserts: 0,
  removes: 0,
  fanout: () => ({ max: 0, avg: 0 }),
  all: () => [],
};

/** Go's strconv.ParseBool of query parameter `k` ('' = false), as nats-server's decodeBool. */
export function goBool(q: URLSearchParams, k: string): boolean {
  const v = q.get(k) ?? '';
  if (v === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new MonitorQueryError(
    `Error decoding boolean for '${k}': strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`,
  );
}

/** Go's strconv.Atoi of query parameter `k` ('' = 0), as nats-server's decodeInt. */
export function goInt(q: URLSearchParams, k: string): number {
  const v = q.get(k) ?? '';
  if (v === '') return 0;
  if (!/^[+-]?\d{1,15}$/.test(v)) {
    throw new MonitorQueryError(`Error decoding int for '${k}': strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  }
  return Number(v);
}
