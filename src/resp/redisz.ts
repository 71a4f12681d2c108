/**
 * `/redisz`: herald's own monitoring view of the Redis keyspace's streams, as /jsz is of
 * JetStream's (docs/redis.md, "Monitoring"). Per database, every stream key with its length,
 * first/last IDs, approximate bytes and consumer groups (the fields XINFO STREAM and XINFO GROUPS
 * report, under their names), plus totals and the keyspace log's state. Built per request: one
 * pass over the keyspace for the totals and sort, one per listed stream for its groups; the
 * message path pays nothing.
 */
import { formatId } from '../stream/redis/id.js';
import type { RedisStream } from '../stream/redis/model.js';
import type { Keyspace } from './keyspace.js';
import type { RedisDurability } from './durability.js';

/** Default and largest page of streams, as /connz's (nats-server monitor.go, DefaultConnListSize). */
export const REDISZ_DEFAULT_LIMIT = 1024;

/** One stream key as /redisz lists it. */
interface StreamRow {
  db: number;
  key: string;
  s: RedisStream;
}

/** `?name=value` as a non-negative integer; absent or bad = `dflt`. */
function intParam(q: URLSearchParams, name: string, dflt: number): number {
  const v = q.get(name);
  if (v === null || !/^\d+$/.test(v)) return dflt;
  return Number(v);
}

/**
 * The /redisz body (without server_id/now): `streams` paged by `offset`/`limit` in (db, key) byte
 * order; `?db=N` lists one database only; totals always count every stream of the keyspace.
 */
export function buildRedisz(keyspace: Keyspace, durability: RedisDurability | null, q: URLSearchParams): object {
  const onlyDb = q.get('db') === null ? null : intParam(q, 'db', -1);
  const offset = intParam(q, 'offset', 0);
  const asked = intParam(q, 'limit', REDISZ_DEFAULT_LIMIT);
  const limit = asked <= 0 ? REDISZ_DEFAULT_LIMIT : Math.min(asked, REDISZ_DEFAULT_LIMIT);
  const rows: StreamRow[] = [];
  let entries = 0;
  let bytes = 0;
  let groups = 0;
  let pending = 0;
  let total = 0;
  const dbs: Record<string, { keys: number; streams: number }> = {};
  keyspace.dbs.forEach((m, db) => {
    if (m.size === 0) return;
    let streams = 0;
    for (const [key, v] of m) {
      if (v.type !== 'stream') continue;
      const s = v as RedisStream;
      streams++;
      total++;
      entries += s.length;
      bytes += s.listpackBytes;
      groups += s.groups.size;
      for (const g of s.groups.values()) pending += g.pel.size;
      if (onlyDb === null || onlyDb === db) rows.push({ db, key, s });
    }
    dbs[`db${db}`] = { keys: m.size, streams };
  });
  rows.sort((a, b) => a.db - b.db || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const page = rows.slice(offset, offset + limit).map(streamRow);
  const body: Record<string, unknown> = {
    total_streams: total,
    total_entries: entries,
    total_bytes: bytes,
    total_groups: groups,
    total_pending: pending,
    keyspace: dbs,
    num_streams: page.length,
    matched: rows.length,
    offset,
    limit,
    streams: page,
  };
  body.log = durability === null ? { enabled: false } : logStatus(durability);
  return body;
}

/** One stream: XINFO STREAM's counters and each group as XINFO GROUPS has it. Keys are latin1
 * strings of the key's bytes; they are shown as UTF-8 text when they are. */
function streamRow(r: StreamRow): object {
  const s = r.s;
  return {
    db: r.db,
    key: Buffer.from(r.key, 'latin1').toString('utf8'),
    length: s.length,
    first_id: s.length === 0 ? null : formatId(s.first()!.id),
    last_id: s.length === 0 ? null : formatId(s.last()!.id),
    last_generated_id: formatId(s.lastId),
    entries_added: s.entriesAdded,
    max_deleted_entry_id: formatId(s.maxDeletedId),
    approx_bytes: s.listpackBytes,
    nodes: s.radixTreeKeys,
    groups: s.sortedGroups().map((g) => ({
      name: Buffer.from(g.name, 'latin1').toString('utf8'),
      consumers: g.consumers.size,
      pending: g.pel.size,
      last_delivered_id: formatId(g.lastId),
      entries_read: g.entriesRead,
      lag: s.lag(g),
    })),
  };
}

/** The keyspace log: INFO `persistence`'s facts plus its generation and record count. */
function logStatus(d: RedisDurability): object {
  const st = d.log.stats();
  const info = new Map(d.info());
  return {
    enabled: st.enabled,
    size: st.size,
    base_size: st.baseSize,
    records: st.records,
    generation: st.generation,
    rewrites: st.rewrites,
    syncs: st.syncs,
    last_write_status: info.get('aof_last_write_status'),
  };
}
