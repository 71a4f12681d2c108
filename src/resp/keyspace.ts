/**
 * The Redis keyspace: 16 logical databases (SELECT 0–15, Redis's `databases` default), each a Map
 * from key (a latin1 string, so any bytes) to a typed value. Typed from the start so each data
 * type lands as one more member of `RedisValue` with its own file: streams
 * (src/stream/redis/model.ts `RedisStream`, type `stream`), then hashes, lists and sorted sets
 * for BullMQ. DBSIZE, EXISTS, TYPE, DEL and FLUSH* answer from here.
 * Costs 16 empty Maps per server.
 */

/** Logical databases, as Redis's `databases 16`. */
export const REDIS_DATABASES = 16;

/** A value's Redis type name, as TYPE answers it. */
export type RedisType = 'stream';

/** One stored value; each data type adds a member carrying its own state. */
export interface RedisValue {
  readonly type: RedisType;
}

/** A client that WATCHes keys: `dirtyCas` is set when a watched key is modified (Redis
 * CLIENT_DIRTY_CAS), and makes its next EXEC answer a null array. */
export interface Watcher {
  dirtyCas: boolean;
}

/**
 * The keyspace itself, plus who WATCHes which key (Redis multi.c's `watched_keys` per db): a
 * modification (`touch`, `delete`, `flush`) flags every watcher of the key. Watching costs one Map
 * entry per watched key and one Set entry per watcher; a touch of an unwatched key costs one lookup.
 */
export class Keyspace {
  readonly dbs: Map<string, RedisValue>[] = Array.from({ length: REDIS_DATABASES }, () => new Map());
  /** Per db: key → clients watching it. */
  private readonly watched: Map<string, Set<Watcher>>[] = Array.from({ length: REDIS_DATABASES }, () => new Map());
  /** Changes since start, as Redis's `server.dirty` (INFO `rdb_changes_since_last_save`). */
  dirty = 0;
  /** Called for every key removed by DEL or FLUSH* (streams log it as a `drop` effect). */
  onDrop: ((db: number, key: string) => void) | null = null;
  /** Called for every modified key; WATCH (and later keyspace notifications) hang off it. */
  onTouch: ((db: number, key: string) => void) | null = null;

  /** Every command that modifies `key` calls this once per key, after the change. */
  touch(db: number, key: string): void {
    const ws = this.watched[db].get(key);
    if (ws !== undefined) for (const w of ws) w.dirtyCas = true;
    this.onTouch?.(db, key);
  }

  /** WATCH: `w` is flagged when `key` of `db` is next modified. */
  watch(db: number, key: string, w: Watcher): void {
    let ws = this.watched[db].get(key);
    if (ws === undefined) this.watched[db].set(key, (ws = new Set()));
    ws.add(w);
  }

  /** Stops `w` watching `key` of `db` (UNWATCH, EXEC, DISCARD, RESET and close call it per key). */
  unwatch(db: number, key: string, w: Watcher): void {
    const ws = this.watched[db].get(key);
    if (ws === undefined) return;
    ws.delete(w);
    if (ws.size === 0) this.watched[db].delete(key);
  }

  get(db: number, key: string): RedisValue | undefined {
    return this.dbs[db].get(key);
  }

  set(db: number, key: string, v: RedisValue): void {
    this.dbs[db].set(key, v);
  }

  /** Removes `key`; a removal is a modification (touch), a miss is not (db.c dbDelete). */
  delete(db: number, key: string): boolean {
    if (!this.dbs[db].delete(key)) return false;
    this.onDrop?.(db, key);
    this.touch(db, key);
    this.onDrop?.(db, key);
    return true;
  }

  /** FLUSHDB / FLUSHALL. As Redis 7.0 (multi.c touchAllWatchedKeysInDb), only watched keys that
   * existed are touched: watching a missing key and flushing leaves the watcher clean. */
  flush(db: number | 'all'): void {
    const dbs = db === 'all' ? this.dbs.keys() : [db];
    for (const i of dbs) {
      const m = this.dbs[i];
      for (const key of this.watched[i].keys()) if (m.has(key)) this.touch(i, key);
      if (this.onDrop !== null) for (const k of m.keys()) this.onDrop(i, k);
      m.clear();
    }
  }
}
