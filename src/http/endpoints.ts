import type { Server } from '../server.js';
import type { MonitorServer } from './monitor.js';
import { hostFacts } from '../server.js';
import { subjectMatches } from '../core/subject.js';

/** Default and largest page of /connz, as nats-server. */
const CONNZ_DEFAULT_LIMIT = 1024;

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

/** `/varz`: server identity, limits and counters, field names as nats-server's. */
export function buildVarz(s: Server, m: MonitorServer): object {
  const o = s.options;
  const r = s.router;
  const now = new Date();
  const facts = hostFacts();
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
    http_port: m.port,
    http_base_path: '',
    https_port: 0,
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
  if (s.jetstream !== null) {
    const jsz = s.jetstream.jsz(new URLSearchParams()) as Record<string, unknown>;
    varz.jetstream = { config: jsz.config, stats: jsz };
  }
  Object.assign(varz, {
    tls_timeout: 2,
    write_deadline: o.writeDeadlineMs * NS_PER_MS,
    start: s.startedAt.toISOString(),
    now: now.toISOString(),
    uptime: goDuration(now.getTime() - s.startedAt.getTime()),
    mem: facts.mem,
    cores: facts.cores,
    gomaxprocs: facts.cores,
    cpu: 0,
    connections: s.door.connections.size,
    total_connections: s.door.totalConnections,
    routes: 0,
    remotes: 0,
    leafnodes: 0,
    in_msgs: r.inMsgs,
    out_msgs: r.outMsgs,
    in_bytes: r.inBytes,
    out_bytes: r.outBytes,
    slow_consumers: s.door.slowConsumers,
    subscriptions: r.sublist.count,
    http_req_stats: { ...m.stats },
    config_load_time: s.startedAt.toISOString(),
  });
  return varz;
}

/**
 * `/connz`: open (default) or closed connections, paged with `offset`/`limit`; `subs=1` adds
 * `subscriptions_list`, `subs=detail` adds `subscriptions_list_detail`.
 */
export function buildConnz(s: Server, q: URLSearchParams): object {
  const offset = Math.max(0, Number(q.get('offset') ?? 0) | 0);
  // Capped like nats-server's, so one request cannot build an unbounded reply.
  const limit = Math.min(CONNZ_DEFAULT_LIMIT, Math.max(1, Number(q.get('limit') ?? CONNZ_DEFAULT_LIMIT) | 0));
  const subs = q.get('subs');
  const now = Date.now();
  const cidFilter = q.get('cid');
  const state = q.get('state') ?? 'open';
  const all: object[] = [];
  if (state === 'open' || state === 'any' || state === 'all') {
    for (const c of s.door.connections.values()) {
      if (cidFilter !== null && String(c.id) !== cidFilter) continue;
      const entry: Record<string, unknown> = {
        cid: c.id,
        kind: 'Client',
        type: 'nats',
        ip: c.ip,
        port: c.port,
        start: new Date(c.start).toISOString(),
        last_activity: new Date(c.lastActivity).toISOString(),
        uptime: goDuration(now - c.start),
        idle: goDuration(now - c.lastActivity),
        pending_bytes: c.pendingBytes,
        in_msgs: c.inMsgs,
        out_msgs: c.outMsgs,
        in_bytes: c.inBytes,
        out_bytes: c.outBytes,
        subscriptions: c.subs.size,
      };
      if (c.name !== '') entry.name = c.name;
      if (c.lang !== '') entry.lang = c.lang;
      if (c.version !== '') entry.version = c.version;
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
    for (const c of s.door.closed) {
      if (cidFilter !== null && String(c.cid) !== cidFilter) continue;
      all.push({
        cid: c.cid,
        kind: 'Client',
        type: 'nats',
        ip: c.ip,
        port: c.port,
        start: new Date(c.start).toISOString(),
        stop: new Date(c.stop).toISOString(),
        reason: c.reason,
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

/** `/subsz`: sublist statistics; `subs=1` lists subscriptions (optionally `test=<subject>`). */
export function buildSubsz(s: Server, q: URLSearchParams): object {
  const sl = s.router.sublist;
  const lookups = sl.cacheHits + sl.matches;
  const out: Record<string, unknown> = {
    server_id: s.serverId,
    now: new Date().toISOString(),
    num_subscriptions: sl.count,
    num_cache: sl.cacheSize,
    num_inserts: sl.inserts,
    num_removes: sl.removes,
    num_matches: lookups,
    cache_hit_rate: lookups === 0 ? 0 : sl.cacheHits / lookups,
    max_fanout: 0,
    avg_fanout: 0,
  };
  if (q.get('subs') === '1' || q.get('subs') === 'true') {
    const test = q.get('test');
    const list = sl
      .all()
      .filter((sub) => test === null || subjectMatches(sub.subject, test))
      .map((sub) => ({
        subject: sub.subject,
        ...(sub.queue !== null ? { qgroup: sub.queue } : {}),
        sid: sub.sid,
        msgs: sub.delivered,
        cid: sub.client.id,
      }));
    out.total = list.length;
    out.offset = 0;
    out.limit = list.length;
    out.subscriptions_list = list;
  }
  return out;
}
