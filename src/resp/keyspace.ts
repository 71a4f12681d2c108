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

export class Keyspace {
  readonly dbs: Map<string, RedisValue>[] = Array.from({ length: REDIS_DATABASES }, () => new Map());
  /** Changes since start, as Redis's `server.dirty` (INFO `rdb_changes_since_last_save`). */
  dirty = 0;
  /** Called for every key removed by DEL or FLUSH* (streams log it as a `drop` effect). */
  onDrop: ((db: number, key: string) => void) | null = null;
  /** Called for every modified key; WATCH (and later keyspace notifications) hang off it. */
  onTouch: ((db: number, key: string) => void) | null = null;

  /** Every command that modifies `key` calls this once per key, after the change. */
  touch(db: number, key: string): void {
    this.onTouch?.(db, key);
  }

  get(db: number, key: string): RedisValue | undefined {
    return this.dbs[db].get(key);
  }

  set(db: number, key: string, v: RedisValue): void {
    this.dbs[db].set(key, v);
  }

  delete(db: number, key: string): boolean {
    const had = this.dbs[db].delete(key);
    if (had) this.onDrop?.(db, key);
    return had;
  }

  flush(db: number | 'all'): void {
    const which = db === 'all' ? this.dbs.map((_, i) => i) : [db];
    for (const i of which) {
      if (this.onDrop !== null) for (const k of this.dbs[i].keys()) this.onDrop(i, k);
      this.dbs[i].clear();
    }
  }
}
