import { globMatches, isGlobPattern } from '../core/glob.js';
import type { RespDoorOptions } from './server.js';

/** One CONFIG key: its current value as CONFIG GET shows it, and how CONFIG SET changes it
 * (null: immutable). `set` returns an error reason, or null when the value was taken. */
interface ConfigKey {
  get(): string;
  set: ((v: string) => string | null) | null;
}

/** A `client-output-buffer-limit` class: hard and soft bytes (0 = none), soft seconds. */
export interface OutputLimit {
  hard: number;
  soft: number;
  seconds: number;
}

/** Redis's defaults (redis.conf): `normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60`. */
const DEFAULT_LIMITS: Record<string, OutputLimit> = {
  normal: { hard: 0, soft: 0, seconds: 0 },
  slave: { hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, seconds: 60 },
  pubsub: { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, seconds: 60 },
};

const IMMUTABLE = "can't set immutable config";

/**
 * The CONFIG keys clients, redis-benchmark and Redis's test suite read (specs/redis.md §1.4), with
 * Redis's names and value formats. Keys herald does not act on (e.g. `save`, `timeout`) hold what
 * a client set so it reads it back; docs/redis.md says which keys have an effect. Costs one small
 * object per server.
 */
export class RedisConfig {
  private readonly keys = new Map<string, ConfigKey>();
  private readonly limits: Record<string, OutputLimit> = structuredClone(DEFAULT_LIMITS);

  constructor(opts: RespDoorOptions) {
    const stored = (v: string, check?: (v: string) => string | null): ConfigKey => {
      let cur = v;
      return {
        get: () => cur,
        set: (nv) => {
          const e = check?.(nv) ?? null;
          if (e === null) cur = nv;
          return e;
        },
      };
    };
    const fixed = (v: string): ConfigKey => ({ get: () => v, set: null });
    const int = (v: string): ConfigKey =>
      stored(v, (nv) => (/^-?\d+$/.test(nv) ? null : "argument couldn't be parsed into an integer"));
    const yesNo = (v: string): ConfigKey =>
      stored(v, (nv) => (nv === 'yes' || nv === 'no' ? null : "argument must be 'yes' or 'no'"));
    this.keys.set('save', stored(''));
    // The default user's password (src/resp/commands/auth.ts); new connections must AUTH once set.
    this.keys.set('requirepass', stored(''));
    // `yes` when the keyspace is kept in its log (docs/redis.md "Durability"); setting it changes nothing.
    this.keys.set('appendonly', yesNo(opts.appendonly === true ? 'yes' : 'no'));
    this.keys.set('appendfsync', fixed(opts.appendfsync));
    this.keys.set('databases', fixed('16'));
    this.keys.set('port', fixed(String(opts.port)));
    this.keys.set('bind', fixed(opts.host));
    this.keys.set('maxclients', fixed('10000'));
    this.keys.set('timeout', int('0'));
    this.keys.set('stream-node-max-entries', int('100'));
    this.keys.set('stream-node-max-bytes', int('4096'));
    this.keys.set('proto-max-bulk-len', fixed('536870912'));
    this.keys.set('client-query-buffer-limit', fixed('1073741824'));
    this.keys.set(
      'maxmemory',
      stored('0', (nv) => (parseMemory(nv) === null ? 'argument must be a memory value' : null)),
    );
    this.keys.set(
      'maxmemory-policy',
      stored('noeviction', (nv) => (nv === 'noeviction' ? null : 'herald supports only noeviction')),
    );
    this.keys.set(
      'notify-keyspace-events',
      stored('', (nv) => (nv === '' ? null : 'keyspace notifications are not supported by herald')),
    );
    this.keys.set('client-output-buffer-limit', {
      get: () =>
        ['normal', 'slave', 'pubsub']
          .map((c) => `${c} ${this.limits[c].hard} ${this.limits[c].soft} ${this.limits[c].seconds}`)
          .join(' '),
      set: (nv) => this.setLimits(nv),
    });
  }

  /** The pubsub class of `client-output-buffer-limit`. */
  get pubsubLimit(): OutputLimit {
    return this.limits.pubsub;
  }

  /** CONFIG GET: [name, value] pairs for keys matching any of the glob patterns (case-insensitive). */
  get(patterns: readonly string[]): [string, string][] {
    const out: [string, string][] = [];
    // config.c configGetCommand: a name without glob characters is looked up and echoed as given.
    if (patterns.length === 1 && !isGlobPattern(patterns[0])) {
      const k = this.keys.get(patterns[0].toLowerCase());
      return k === undefined ? [] : [[patterns[0], k.get()]];
    }
    for (const [name, k] of this.keys) {
      if (patterns.some((p) => globMatches(p.toLowerCase(), name))) out.push([name, k.get()]);
    }
    return out;
  }

  /** The current value of key `name` (lower case), or '' when there is no such key. */
  value(name: string): string {
    return this.keys.get(name)?.get() ?? '';
  }

  /** True when `name` is a key CONFIG SET knows. */
  has(name: string): boolean {
    return this.keys.has(name);
  }

  /** CONFIG SET of one key: null when done, else the failure reason. */
  set(name: string, value: string): string | null {
    const k = this.keys.get(name);
    if (k === undefined) return 'unknown';
    if (k.set === null) return IMMUTABLE;
    return k.set(value);
  }

  /** `pubsub 32mb 8mb 60 …` (config.c, setConfigClientOutputBufferLimitOption). */
  private setLimits(v: string): string | null {
    const w = v.split(/\s+/).filter((s) => s !== '');
    if (w.length % 4 !== 0) return 'Wrong number of arguments in buffer limit configuration.';
    const next: Record<string, OutputLimit> = {};
    for (let i = 0; i < w.length; i += 4) {
      const cls = w[i].toLowerCase() === 'replica' ? 'slave' : w[i].toLowerCase();
      const hard = parseMemory(w[i + 1]);
      const soft = parseMemory(w[i + 2]);
      const secs = /^\d+$/.test(w[i + 3]) ? Number(w[i + 3]) : null;
      if (!(cls in this.limits) || hard === null || soft === null || secs === null)
        return 'Invalid client class specified in buffer limit configuration.';
      next[cls] = { hard, soft, seconds: secs };
    }
    Object.assign(this.limits, next);
    return null;
  }
}

/** Redis util.c memtoull: digits with an optional b, k, kb, m, mb, g, gb (any case). */
export function parseMemory(s: string): number | null {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s);
  if (m === null) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mul: Record<string, number> = { b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(m[1]) * mul[unit];
}
