/**
 * The Redis keyspace: 16 logical databases (SELECT 0–15, Redis's `databases` default), each a Map
 * from key (a latin1 string, so any bytes) to a typed value. Typed from the start so each data
 * type lands as one more member of `RedisValue` with its own file: streams (on herald's durable
 * streams) come next, then hashes, lists and sorted sets for BullMQ. This release stores no
 * values yet: DBSIZE, EXISTS, TYPE, DEL and FLUSH* already answer from here.
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
  /** Called for every modified key; WATCH (and later keyspace notifications) hang off it. */
  onTouch: ((db: number, key: string) => void) | null = null;

  /** Every command that modifies `key` calls this once per key, after the change. */
  touch(db: number, key: string): void {
    this.onTouch?.(db, key);
  }

  get(db: number, key: string): RedisValue | undefined {
    return this.dbs[db].get(key);
  }

  delete(db: number, key: string): boolean {
    return this.dbs[db].delete(key);
  }

  flush(db: number | 'all'): void {
    if (db === 'all') for (const m of this.dbs) m.clear();
    else this.dbs[db].clear();
  }
}
