/**
 * `/accountz` (nats-server monitor.go, Accountz): the account names and the system account, or
 * with `acc=<name>` a minimal `account_detail` — JetStream on or off, client connections,
 * subscriptions, and the exports and imports the config declared. Built per request.
 */
import type { AccountSet } from '../core/accounts.js';
import type { MappingSpec } from '../core/mapping.js';
import type { ConnectionRegistry } from '../core/connections.js';
import { MonitorQueryError } from './monitor.js';
import type { SublistStats } from './stats.js';

/** nats-server prints a service export's response type capitalised. */
const RESPONSE_TYPE = { singleton: 'Singleton', stream: 'Stream', chunked: 'Chunked' } as const;

/** The /accountz body without server_id/now. `jetstream(name)` says whether the account runs JetStream. */
export function buildAccountz(
  accounts: AccountSet,
  connections: ConnectionRegistry,
  jetstream: (account: string) => boolean,
  q: URLSearchParams,
): object {
  const system = accounts.system.name;
  const name = q.get('acc') ?? '';
  if (name === '') return { system_account: system, accounts: [...accounts.byName.keys()].sort() };
  return { system_account: system, account_detail: accountInfo(accounts, connections, jetstream, name) };
}

/** Open client connections bound to account `name`. */
export function accountConnections(connections: ConnectionRegistry, name: string): number {
  let n = 0;
  for (const r of connections.open.values()) if ((r.conn.account ?? '$G') === name) n++;
  return n;
}

/**
 * nats-server's AccountInfo (monitor.go, accountInfo), for /accountz?acc= and
 * `$SYS.REQ.ACCOUNT.<acc>.INFO`: JetStream on or off, client connections, subscriptions, the
 * exports and imports the config declared (omitted when none, as nats-server's omitempty) and
 * the account's sublist statistics. Throws MonitorQueryError with nats-server's text for an
 * account that does not exist.
 */
export function accountInfo(
  accounts: AccountSet,
  connections: ConnectionRegistry,
  jetstream: (account: string) => boolean,
  name: string,
): object {
  const acc = accounts.get(name);
  if (acc === undefined) throw new MonitorQueryError(`Account ${name} does not exist`);
  const spec = acc.spec;
  const sl = acc.router.sublist;
  const exports = (spec?.exports ?? []).map((e) => ({
    subject: e.subject,
    type: e.kind,
    ...(e.kind === 'service' ? { response_type: RESPONSE_TYPE[e.responseType] } : {}),
    ...(e.accounts !== null ? { approved_accounts: e.accounts } : {}),
  }));
  const imports = (spec?.imports ?? []).map((i) => ({
    subject: i.subject,
    account: i.account,
    ...(i.to !== null ? { to: i.to } : i.prefix !== null ? { to: `${i.prefix}.${i.subject}` } : {}),
    type: i.kind,
    invalid: false,
  }));
  return {
    account_name: name,
    update_time: accounts.createdAt.toISOString(),
    ...(acc === accounts.system ? { is_system: true } : {}),
    expired: false,
    complete: true,
    jetstream_enabled: jetstream(name),
    leafnode_connections: 0,
    client_connections: accountConnections(connections, name),
    subscriptions: sl.count,
    ...(acc.mappings.length > 0 ? { mappings: mappingsView(acc.mappings) } : {}),
    ...(exports.length > 0 ? { exports } : {}),
    ...(imports.length > 0 ? { imports } : {}),
    sublist_stats: sublistStats(sl),
  };
}

/** nats-server SublistStats (sublist.go, Stats): counts and fan-out over the cached match results. */
export function sublistStats(sl: SublistStats): object {
  const lookups = sl.cacheHits + sl.matches;
  const fan = sl.fanout();
  return {
    num_subscriptions: sl.count,
    num_cache: sl.cacheSize,
    num_inserts: sl.inserts,
    num_removes: sl.removes,
    num_matches: lookups,
    cache_hit_rate: lookups === 0 ? 0 : sl.cacheHits / lookups,
    max_fanout: fan.max,
    avg_fanout: fan.avg,
  };
}

/** nats-server ExtMap: source → [{subject, weight}] as configured. */
function mappingsView(maps: readonly MappingSpec[]): Record<string, { subject: string; weight: number }[]> {
  const out: Record<string, { subject: string; weight: number }[]> = {};
  for (const m of maps) out[m.from] = m.to.map((d) => ({ subject: d.subject, weight: d.weight }));
  return out;
}

/** Router counters summed over every account, for /varz (a message crossing an import counts in both accounts). */
export function routerTotals(accounts: AccountSet): {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  sublist: { count: number };
} {
  const t = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0, sublist: { count: 0 } };
  for (const a of accounts.byName.values()) {
    const r = a.router;
    t.inMsgs += r.inMsgs;
    t.outMsgs += r.outMsgs;
    t.inBytes += r.inBytes;
    t.outBytes += r.outBytes;
    t.sublist.count += r.sublist.count;
  }
  return t;
}
