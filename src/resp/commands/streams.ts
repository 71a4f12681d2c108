/**
 * Redis Streams data-plane commands (Redis group `stream`): XADD, XLEN, XRANGE, XREVRANGE, XDEL,
 * XTRIM, XSETID, XREAD (with BLOCK), XINFO STREAM/GROUPS/CONSUMERS. This file parses arguments
 * in Redis's order (t_stream.c, so the first error Redis would report is the one herald
 * reports), calls the protocol-free model (src/stream/redis/model.ts) and writes replies in
 * RESP2 or RESP3 shapes as redis-server 7.0.15 does. Consumer-group commands are in groups.ts.
 */
import { RedisErrors, redisError } from '../../core/errors.js';
import type { RespConnection } from '../connection.js';
import type { RespWriter } from '../writer.js';
import { def, type CommandSpec } from './spec.js';
import { intArg } from './connection.js';
import { ID_MAX, formatId, parseId, type StreamId } from '../../stream/redis/id.js';
import type { ReadEntry, RedisStream, StreamError, TrimArgs } from '../../stream/redis/model.js';
import { Waiter } from '../../stream/redis/blocking.js';
import type { Group } from '../../stream/redis/group.js';

/** Entries an XREAD woken from BLOCK returns without COUNT (t_stream.c XREAD_BLOCKED_DEFAULT_COUNT). */
const XREAD_BLOCKED_DEFAULT_COUNT = 1000;

export const keyArg = (b: Buffer): string => b.toString('latin1');
/** A name as C's `%s` prints it in an error: up to the first NUL. */
export const cName = (b: Buffer): string => {
  const i = b.indexOf(0);
  return b.toString('latin1', 0, i < 0 ? b.length : i);
};
const is = (b: Buffer, word: string): boolean => b.length === word.length && b.toString('latin1').toLowerCase() === word;

/** Writes the model's refusal as Redis's error text. */
export function streamError(c: RespConnection, e: StreamError, key = '', group = ''): void {
  const texts: Record<StreamError, string> = {
    wrongtype: RedisErrors.WrongType,
    'id-too-small': RedisErrors.XaddIdTooSmall,
    'id-exhausted': RedisErrors.XaddExhausted,
    'no-key': RedisErrors.NoSuchKey,
    'setid-below-top': RedisErrors.XsetidBelowTop,
    'setid-entries-added-below-length': RedisErrors.XsetidEntriesAddedBelowLength,
    busygroup: RedisErrors.BusyGroup,
    'xgroup-needs-key': RedisErrors.XgroupNeedsKey,
    'no-group': redisError(RedisErrors.NoGroup, { group, key }),
  };
  c.error(texts[e]);
}

export function writeId(w: RespWriter, id: StreamId): void {
  w.bulk(formatId(id));
}

/** `[id, [f, v, …]]`, or `[id, nil]` for an entry that is gone (history reads). */
export function writeEntry(w: RespWriter, e: ReadEntry): void {
  w.array(2);
  writeId(w, e.id);
  const d = e.data;
  if (d === null) return w.nilArray();
  // The packed list (stream.ts PackedFields) goes out item by item, copied straight from it.
  const n = d.readUInt32BE(0);
  w.array(n);
  for (let i = 0, p = 4; i < n; i++) {
    const len = d.readUInt32BE(p);
    w.bulkRange(d, p + 4, p + 4 + len);
    p += 4 + len;
  }
}

export function writeEntries(w: RespWriter, es: readonly ReadEntry[]): void {
  w.array(es.length);
  for (const e of es) writeEntry(w, e);
}

/** A strict ID argument (no `-`/`+`), or null after writing Redis's invalid-ID error. */
export function strictId(c: RespConnection, b: Buffer, missingSeq = 0n): StreamId | null {
  const p = parseId(b, missingSeq, true);
  if (p === null) {
    c.error(RedisErrors.StreamInvalidId);
    return null;
  }
  return p.id;
}

/** streamParseIntervalIDOrReply plus the `(` increment/decrement: null after an error reply. */
export function intervalId(c: RespConnection, b: Buffer, missingSeq: bigint, isStart: boolean): StreamId | null {
  const exclusive = b.length > 1 && b[0] === 0x28;
  const p = exclusive ? parseId(b.subarray(1), missingSeq, true) : parseId(b, missingSeq, false);
  if (p === null) {
    c.error(RedisErrors.StreamInvalidId);
    return null;
  }
  if (!exclusive) return p.id;
  if (isStart) {
    if (p.id === ID_MAX) return (c.error(RedisErrors.IntervalStartInvalid), null);
    return p.id + 1n;
  }
  if (p.id === 0n) return (c.error(RedisErrors.IntervalEndInvalid), null);
  return p.id - 1n;
}

/** An integer argument (getLongLongFromObjectOrReply), or null after `err`. */
export function longArg(c: RespConnection, b: Buffer, err: string = RedisErrors.NotInteger): number | null {
  const v = intArg(b);
  if (v === null) c.error(err);
  return v;
}

/** The stream at argv key for a read/write, or undefined; null after a WRONGTYPE reply. */
function streamAt(c: RespConnection, key: string): RedisStream | undefined | null {
  const s = c.door.streams.lookup(c.db, key);
  if (s === 'wrongtype') {
    c.error(RedisErrors.WrongType);
    return null;
  }
  return s;
}

export function nodeLimitsOf(c: RespConnection): { maxEntries: number; maxBytes: number } {
  const g = (k: string): number => Number(c.door.config.get([k])[0]?.[1] ?? 0);
  return { maxEntries: g('stream-node-max-entries'), maxBytes: g('stream-node-max-bytes') };
}

/** XADD/XTRIM options (streamParseAddOrTrimArgsOrReply). Null after an error reply. */
function parseAddTrim(
  c: RespConnection,
  argv: Buffer[],
  xadd: boolean,
): { trim: TrimArgs | null; noMk: boolean; idIndex: number; id: StreamId | null; seqGiven: boolean } | null {
  let strategy: 'maxlen' | 'minid' | null = null;
  let approx = false;
  let maxlen = 0;
  let minid: StreamId = 0n;
  let limit = 0;
  let limitGiven = false;
  let noMk = false;
  let id: StreamId | null = null;
  let seqGiven = true;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i];
    if (xadd && opt.length === 1 && opt[0] === 0x2a) break;
    const o = opt.toString('latin1').toLowerCase();
    if ((o === 'maxlen' || o === 'minid') && more > 0) {
      if (strategy !== null) return (c.error(RedisErrors.TrimBothStrategies), null);
      approx = false;
      const next = argv[i + 1];
      if (more >= 2 && next.length === 1 && (next[0] === 0x7e || next[0] === 0x3d)) {
        approx = next[0] === 0x7e;
        i++;
      }
      if (o === 'maxlen') {
        const v = longArg(c, argv[i + 1]);
        if (v === null) return null;
        if (v < 0) return (c.error(RedisErrors.MaxlenNegative), null);
        maxlen = v;
      } else {
        const v = strictId(c, argv[i + 1]);
        if (v === null) return null;
        minid = v;
      }
      i++;
      strategy = o;
    } else if (o === 'limit' && more > 0) {
      const v = longArg(c, argv[i + 1]);
      if (v === null) return null;
      if (v < 0) return (c.error(RedisErrors.LimitNegative), null);
      limit = v;
      limitGiven = true;
      i++;
    } else if (xadd && o === 'nomkstream') {
      noMk = true;
    } else if (xadd) {
      const p = parseId(opt, 0n, true, true);
      if (p === null) return (c.error(RedisErrors.StreamInvalidId), null);
      id = p.id;
      seqGiven = p.seqGiven;
      break;
    } else return (c.error(RedisErrors.Syntax), null);
  }
  if (limit > 0 && strategy === null) return (c.error(RedisErrors.LimitWithoutStrategy), null);
  if (!xadd && strategy === null) return (c.error(RedisErrors.XtrimNoStrategy), null);
  if (limitGiven) {
    if (!approx) return (c.error(RedisErrors.LimitWithoutApprox), null);
  } else if (approx) {
    limit = 100 * nodeLimitsOf(c).maxEntries;
    if (limit <= 0) limit = 10000;
    if (limit > 1000000) limit = 1000000;
  } else limit = 0;
  const trim = strategy === null ? null : { strategy, maxlen, minid, approx, limit };
  return { trim, noMk, idIndex: i, id, seqGiven };
}

function xadd(c: RespConnection, argv: Buffer[]): void {
  const a = parseAddTrim(c, argv, true);
  if (a === null) return;
  const fieldPos = a.idIndex + 1;
  const nf = argv.length - fieldPos;
  if (nf < 2 || nf % 2 === 1) return c.error(redisError(RedisErrors.WrongArity, { cmd: 'xadd' }));
  if (a.id === 0n && a.seqGiven) return c.error(RedisErrors.XaddIdZero);
  const key = keyArg(argv[1]);
  const m = c.door.streams;
  const r = m.xadd(c.db, key, a.id, a.seqGiven, a.noMk, a.trim, argv.slice(fieldPos));
  if (r === null) return c.writer.nil();
  if (typeof r === 'string') return streamError(c, r);
  writeId(c.writer, r);
  signalReady(c, key);
}

/**
 * A write made `key` ready for blocked readers (signalKeyAsReady). They are served once the
 * command is over, or, inside EXEC, once the whole transaction is (a microtask then), as Redis
 * serves them from beforeSleep/after call.
 */
export function signalReady(c: RespConnection, key: string): void {
  const bl = c.door.blocking;
  bl.signal(c.db, key);
  if (c.inExec) queueMicrotask(() => bl.serveReady());
  else bl.serveReady();
}

function xlen(c: RespConnection, argv: Buffer[]): void {
  const s = streamAt(c, keyArg(argv[1]));
  if (s === null) return;
  c.writer.int(s?.length ?? 0);
}

function xrangeGeneric(c: RespConnection, argv: Buffer[], rev: boolean): void {
  const start = intervalId(c, rev ? argv[3] : argv[2], 0n, true);
  if (start === null) return;
  const end = intervalId(c, rev ? argv[2] : argv[3], (1n << 64n) - 1n, false);
  if (end === null) return;
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (is(argv[j], 'count') && argv.length - j - 1 >= 1) {
      const v = longArg(c, argv[j + 1]);
      if (v === null) return;
      count = Math.max(v, 0);
      j++;
    } else return c.error(RedisErrors.Syntax);
  }
  const s = streamAt(c, keyArg(argv[1]));
  if (s === null) return;
  if (s === undefined) return c.writer.array(0);
  if (count === 0) return c.writer.nilArray();
  writeEntries(c.writer, c.door.streams.range(s, start, end, rev, count < 0 ? 0 : count));
}

function xdel(c: RespConnection, argv: Buffer[]): void {
  const key = keyArg(argv[1]);
  const s = streamAt(c, key);
  if (s === null) return;
  if (s === undefined) return c.writer.int(0);
  const ids: StreamId[] = [];
  for (let j = 2; j < argv.length; j++) {
    const id = strictId(c, argv[j]);
    if (id === null) return;
    ids.push(id);
  }
  c.writer.int(c.door.streams.xdel(c.db, key, ids) as number);
}

function xtrim(c: RespConnection, argv: Buffer[]): void {
  const a = parseAddTrim(c, argv, false);
  if (a === null) return;
  const r = c.door.streams.xtrim(c.db, keyArg(argv[1]), a.trim as TrimArgs);
  if (typeof r === 'string') return streamError(c, r);
  c.writer.int(r);
}

function xsetid(c: RespConnection, argv: Buffer[]): void {
  const id = strictId(c, argv[2]);
  if (id === null) return;
  let entriesAdded: number | null = null;
  let maxDel: StreamId | null = null;
  for (let i = 3; i < argv.length;) {
    const more = argv.length - 1 - i;
    if (is(argv[i], 'entriesadded') && more > 0) {
      const v = longArg(c, argv[i + 1]);
      if (v === null) return;
      if (v < 0) return c.error(RedisErrors.XsetidEntriesAddedNegative);
      entriesAdded = v;
      i += 2;
    } else if (is(argv[i], 'maxdeletedid') && more > 0) {
      const v = strictId(c, argv[i + 1]);
      if (v === null) return;
      if (id < v) return c.error(RedisErrors.XsetidBelowMaxDeleted);
      maxDel = v;
      i += 2;
    } else return c.error(RedisErrors.Syntax);
  }
  const r = c.door.streams.xsetid(c.db, keyArg(argv[1]), id, entriesAdded, maxDel);
  if (r !== null) return streamError(c, r);
  c.writer.simple('OK');
}

// ---- XREAD / XREADGROUP ----

/** Parsed XREAD/XREADGROUP arguments. `ids[i]` null = `>` (XREADGROUP new entries); `lastOf`
 * holds the keys XREAD was given `+` for (read the last entry, resolved again on wake). */
export interface ReadArgs {
  lastOf: Set<string>;
  timeout: number; // -1 = no BLOCK
  count: number;
  noack: boolean;
  group: Buffer | null;
  consumer: Buffer | null;
  keys: Buffer[];
  ids: (StreamId | null)[];
  groups: Group[];
}

/** t_stream.c xreadCommand up to the reply; null after an error reply. */
export function parseRead(c: RespConnection, argv: Buffer[], xreadgroup: boolean): ReadArgs | null {
  const a: ReadArgs = { lastOf: new Set(), timeout: -1, count: 0, noack: false, group: null, consumer: null, keys: [], ids: [], groups: [] };
  let streamsArg = 0;
  let n = 0;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const o = argv[i].toString('latin1').toLowerCase();
    if (o === 'block' && more > 0) {
      i++;
      const v = intArg(argv[i]);
      if (v === null) return (c.error(RedisErrors.TimeoutNotInteger), null);
      if (v < 0) return (c.error(RedisErrors.TimeoutNegative), null);
      a.timeout = v;
    } else if (o === 'count' && more > 0) {
      i++;
      const v = longArg(c, argv[i]);
      if (v === null) return null;
      a.count = Math.max(v, 0);
    } else if (o === 'streams' && more > 0) {
      streamsArg = i + 1;
      n = argv.length - streamsArg;
      if (n % 2 !== 0) return (c.error(RedisErrors.XreadUnbalanced), null);
      n /= 2;
      break;
    } else if (o === 'group' && more >= 2) {
      if (!xreadgroup) return (c.error(RedisErrors.XreadGroupOption), null);
      a.group = argv[i + 1];
      a.consumer = argv[i + 2];
      i += 2;
    } else if (o === 'noack') {
      if (!xreadgroup) return (c.error(RedisErrors.XreadNoackOption), null);
      a.noack = true;
    } else return (c.error(RedisErrors.Syntax), null);
  }
  if (streamsArg === 0) return (c.error(RedisErrors.Syntax), null);
  if (xreadgroup && a.group === null) return (c.error(RedisErrors.XreadgroupMissingGroup), null);
  const m = c.door.streams;
  for (let k = 0; k < n; k++) {
    const keyB = argv[streamsArg + k];
    const idB = argv[streamsArg + n + k];
    const s = m.lookup(c.db, keyArg(keyB));
    if (s === 'wrongtype') return (c.error(RedisErrors.WrongType), null);
    if (a.group !== null) {
      const g = s?.groups.get(keyArg(a.group));
      if (g === undefined)
        return (c.error(redisError(RedisErrors.NoGroupRead, { key: cName(keyB), group: cName(a.group) })), null);
      a.groups.push(g);
    }
    a.keys.push(keyB);
    if (idB.length === 1 && idB[0] === 0x24) {
      if (xreadgroup) return (c.error(RedisErrors.XreadgroupDollar), null);
      a.ids.push(s?.lastId ?? 0n);
      continue;
    }
    // Redis 7.4 XREAD `+` (t_stream.c 7.4.0 xreadCommand): the stream's last generated ID minus one,
    // so only the last entry can follow it (COUNT has no effect; an XDEL'd last entry gives nothing);
    // a missing stream reads as 0-0, and a stream whose last ID is 0-0 (XGROUP CREATE … MKSTREAM)
    // is refused. XREADGROUP keeps Redis 7.0's answer to `+` (an invalid ID).
    if (!xreadgroup && idB.length === 1 && idB[0] === 0x2b) {
      if (s !== undefined && s.lastId === 0n) return (c.error(RedisErrors.XreadLastIdZero), null);
      a.ids.push(s === undefined ? 0n : s.lastId - 1n);
      a.lastOf.add(keyArg(keyB));
      continue;
    }
    if (idB.length === 1 && idB[0] === 0x3e) {
      if (!xreadgroup) return (c.error(RedisErrors.XreadGreaterThan), null);
      a.ids.push(null);
      continue;
    }
    const id = strictId(c, idB);
    if (id === null) return null;
    a.ids.push(id);
  }
  return a;
}

/** The last live entry's ID, or null (streamLastValidID on a non-empty stream). */
function lastValid(s: RedisStream): StreamId | null {
  return s.length > 0 ? (s.last()?.id ?? null) : null;
}

function xread(c: RespConnection, argv: Buffer[]): void {
  const a = parseRead(c, argv, false);
  if (a === null) return;
  const m = c.door.streams;
  const out: { key: Buffer; entries: ReadEntry[] }[] = [];
  for (let i = 0; i < a.keys.length; i++) {
    const s = m.lookup(c.db, keyArg(a.keys[i])) as RedisStream | undefined;
    if (s === undefined) continue;
    const gt = a.ids[i] as StreamId;
    const top = lastValid(s);
    if (top === null || top <= gt) continue;
    out.push({ key: a.keys[i], entries: m.range(s, gt + 1n, ID_MAX, false, a.count) });
  }
  if (out.length > 0) return writeReadReply(c.writer, out);
  // Inside EXEC nothing blocks (Redis CLIENT_DENY_BLOCKING): the timeout answer comes at once.
  if (a.timeout === -1 || c.inExec) return c.writer.nilArray();
  blockRead(c, a, (key, gt) => {
    const s = m.lookup(c.db, key);
    if (s === undefined || s === 'wrongtype') return null;
    // Redis 7.4 re-runs a woken XREAD, so `+` is the last entry as of the wake (not `$`-like).
    if (a.lastOf.has(key)) gt = s.lastId === 0n ? 0n : s.lastId - 1n;
    if (s.lastId <= gt) return null;
    return m.range(s, gt + 1n, ID_MAX, false, a.count || XREAD_BLOCKED_DEFAULT_COUNT);
  });
}

/** The top level of an XREAD/XREADGROUP reply: RESP2 `[[k, entries]…]`, RESP3 a map. */
export function writeReadReply(w: RespWriter, out: readonly { key: Buffer; entries: ReadEntry[] }[]): void {
  if (w.proto === 3) w.map(out.length);
  else w.array(out.length);
  for (const o of out) {
    if (w.proto === 2) w.array(2);
    w.bulk(o.key);
    writeEntries(w, o.entries);
  }
}

/**
 * Blocks the connection (blocked.c blockForKeys) until `serve(key, gt)` returns entries for one
 * of its keys (then replies with that key alone, as Redis 7.0 does), returns an error text, or
 * the timeout passes (null reply). Later pipelined commands wait (RespConnection.blocked).
 */
export function blockRead(
  c: RespConnection,
  a: ReadArgs,
  serve: (key: string, gt: StreamId) => ReadEntry[] | string | null,
): void {
  const keys = a.keys.map(keyArg);
  const gts = new Map<string, StreamId>();
  keys.forEach((k, i) => {
    if (!gts.has(k)) gts.set(k, a.ids[i] ?? 0n);
  });
  const bl = c.door.blocking;
  const w = new Waiter(
    c.db,
    keys,
    (key) => {
      const r = serve(key, gts.get(key) as StreamId);
      if (r === null) return false;
      if (typeof r === 'string') c.error(r);
      else writeReadReply(c.writer, [{ key: Buffer.from(key, 'latin1'), entries: r }]);
      return true;
    },
    () => {
      c.writer.nilArray();
      c.unblocked();
    },
    () => c.unblocked(),
  );
  bl.block(w, a.timeout === 0 ? 0 : Date.now() + a.timeout);
  c.blocked = { cancel: () => bl.cancel(w) };
}

// ---- XINFO ----

function xinfoStream(c: RespConnection, argv: Buffer[]): void {
  const w = c.writer;
  let full = false;
  let count = 10;
  const opts = argv.slice(3);
  if (opts.length > 0) {
    if ((opts.length !== 1 && opts.length !== 3) || !is(opts[0], 'full') || (opts.length === 3 && !is(opts[1], 'count'))) {
      // Redis looks the key up before reading the options.
      const s0 = streamAt(c, keyArg(argv[2]));
      if (s0 === null) return;
      if (s0 === undefined) return c.error(RedisErrors.NoSuchKey);
      return c.error(redisError(RedisErrors.SubcommandSyntax, { sub: cName(argv[1]), cmd: 'XINFO' }));
    }
    full = true;
  }
  const s = streamAt(c, keyArg(argv[2]));
  if (s === null) return;
  if (s === undefined) return c.error(RedisErrors.NoSuchKey);
  if (opts.length === 3) {
    const v = longArg(c, opts[2]);
    if (v === null) return;
    count = v < 0 ? 10 : v;
  }
  w.map(full ? 9 : 10);
  const kv = (k: string, v: number): void => {
    w.bulk(k);
    w.int(v);
  };
  kv('length', s.length);
  kv('radix-tree-keys', s.radixTreeKeys);
  kv('radix-tree-nodes', s.radixTreeNodes);
  w.bulk('last-generated-id');
  writeId(w, s.lastId);
  w.bulk('max-deleted-entry-id');
  writeId(w, s.maxDeletedId);
  kv('entries-added', s.entriesAdded);
  w.bulk('recorded-first-entry-id');
  writeId(w, s.firstId);
  const m = c.door.streams;
  if (!full) {
    kv('groups', s.groups.size);
    w.bulk('first-entry');
    const f = s.first();
    if (f === undefined) w.nil();
    else writeEntry(w, m.range(s, f.id, f.id, false, 1)[0]);
    w.bulk('last-entry');
    const l = s.last();
    if (l === undefined) w.nil();
    else writeEntry(w, m.range(s, l.id, l.id, false, 1)[0]);
    return;
  }
  w.bulk('entries');
  writeEntries(w, m.range(s, 0n, ID_MAX, false, count));
  w.bulk('groups');
  const groups = s.sortedGroups();
  w.array(groups.length);
  for (const g of groups) {
    w.map(7);
    w.bulk('name');
    w.bulk(g.name);
    w.bulk('last-delivered-id');
    writeId(w, g.lastId);
    w.bulk('entries-read');
    if (g.entriesRead === null) w.nil();
    else w.int(g.entriesRead);
    w.bulk('lag');
    writeLag(w, s, g);
    kv('pel-count', g.pel.size);
    w.bulk('pending');
    const pend = g.pel.between(0n, ID_MAX, count);
    w.array(pend.length);
    for (const [id, p] of pend) {
      w.array(4);
      writeId(w, id);
      w.bulk(p.owner.name);
      w.int(p.time);
      w.int(p.count);
    }
    w.bulk('consumers');
    const cs = g.sortedConsumers();
    w.array(cs.length);
    for (const cn of cs) {
      w.map(4);
      w.bulk('name');
      w.bulk(cn.name);
      kv('seen-time', cn.seen);
      kv('pel-count', cn.pel.size);
      w.bulk('pending');
      const cp = cn.pel.between(0n, ID_MAX, count);
      w.array(cp.length);
      for (const [id, p] of cp) {
        w.array(3);
        writeId(w, id);
        w.int(p.time);
        w.int(p.count);
      }
    }
  }
}

export function writeLag(w: RespWriter, s: RedisStream, g: Group): void {
  const lag = s.lag(g);
  if (lag === null) w.nil();
  else w.int(lag);
}

function xinfoGroups(c: RespConnection, argv: Buffer[]): void {
  const s = streamAt(c, keyArg(argv[2]));
  if (s === null) return;
  if (s === undefined) return c.error(RedisErrors.NoSuchKey);
  const w = c.writer;
  const groups = s.sortedGroups();
  w.array(groups.length);
  for (const g of groups) {
    w.map(6);
    kv(w, 'name', g.name);
    kv(w, 'consumers', g.consumers.size);
    kv(w, 'pending', g.pel.size);
    kv(w, 'last-delivered-id', formatId(g.lastId));
    kv(w, 'entries-read', g.entriesRead);
    kv(w, 'lag', s.lag(g));
  }
}

/** One map pair: a bulk key and an integer, bulk or null value. */
function kv(w: RespWriter, k: string, v: number | string | null): void {
  w.bulk(k);
  if (v === null) w.nil();
  else if (typeof v === 'number') w.int(v);
  else w.bulk(v);
}

function xinfoConsumers(c: RespConnection, argv: Buffer[]): void {
  const s = streamAt(c, keyArg(argv[2]));
  if (s === null) return;
  if (s === undefined) return c.error(RedisErrors.NoSuchKey);
  const g = s.groups.get(keyArg(argv[3]));
  if (g === undefined) return c.error(redisError(RedisErrors.NoGroup, { group: cName(argv[3]), key: cName(argv[2]) }));
  const w = c.writer;
  const now = Date.now();
  const cs = g.sortedConsumers();
  w.array(cs.length);
  for (const cn of cs) {
    w.map(3);
    kv(w, 'name', cn.name);
    kv(w, 'pending', cn.pel.size);
    kv(w, 'idle', Math.max(0, now - cn.seen));
  }
}

const XINFO_HELP = [
  'XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
  'HELP',
  '    Prints this help.',
];

/** `HELP` replies of stream containers: a status line per help line (networking.c addReplyHelp). */
export function writeHelp(c: RespConnection, lines: readonly string[]): void {
  c.writer.array(lines.length);
  for (const l of lines) c.writer.simple(l);
}

const stream = (d: Omit<Parameters<typeof def>[0], 'group'>): CommandSpec =>
  def({ group: 'stream', firstKey: 1, lastKey: 1, step: 1, ...d });

/** The stream family's table entries (arity, flags and key positions from Redis's commands/*.json). */
export const STREAM_COMMANDS: readonly CommandSpec[] = [
  stream({
    name: 'xadd',
    arity: -5,
    since: '5.0.0',
    summary: "Appends a new message to a stream. Creates the key if it doesn't exist.",
    flags: ['write', 'denyoom', 'fast'],
    handler: xadd,
  }),
  stream({
    name: 'xlen',
    arity: 2,
    since: '5.0.0',
    summary: 'Return the number of messages in a stream.',
    flags: ['readonly', 'fast'],
    handler: xlen,
  }),
  stream({
    name: 'xrange',
    arity: -4,
    since: '5.0.0',
    summary: 'Returns the messages from a stream within a range of IDs.',
    flags: ['readonly'],
    handler: (c, a) => xrangeGeneric(c, a, false),
  }),
  stream({
    name: 'xrevrange',
    arity: -4,
    since: '5.0.0',
    summary: 'Returns the messages from a stream within a range of IDs in reverse order.',
    flags: ['readonly'],
    handler: (c, a) => xrangeGeneric(c, a, true),
  }),
  stream({
    name: 'xdel',
    arity: -3,
    since: '5.0.0',
    summary: 'Returns the number of messages after removing them from a stream.',
    flags: ['write', 'fast'],
    handler: xdel,
  }),
  stream({
    name: 'xtrim',
    arity: -4,
    since: '5.0.0',
    summary: 'Deletes messages from the beginning of a stream.',
    flags: ['write'],
    handler: xtrim,
  }),
  stream({
    name: 'xsetid',
    arity: -3,
    since: '5.0.0',
    summary: 'An internal command for replicating stream values.',
    flags: ['write', 'denyoom', 'fast'],
    handler: xsetid,
  }),
  stream({
    name: 'xread',
    arity: -4,
    since: '5.0.0',
    summary:
      'Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.',
    flags: ['readonly', 'blocking', 'movablekeys'],
    firstKey: 0,
    lastKey: 0,
    step: 0,
    handler: xread,
  }),
  def({
    name: 'xinfo',
    arity: -2,
    group: 'stream',
    since: '5.0.0',
    summary: 'A container for stream introspection commands.',
    subcommands: [
      stream({
        name: 'xinfo|stream',
        arity: -3,
        since: '5.0.0',
        summary: 'Returns information about a stream.',
        flags: ['readonly'],
        firstKey: 2,
        lastKey: 2,
        handler: xinfoStream,
      }),
      stream({
        name: 'xinfo|groups',
        arity: 3,
        since: '5.0.0',
        summary: 'Returns a list of the consumer groups of a stream.',
        flags: ['readonly'],
        firstKey: 2,
        lastKey: 2,
        handler: xinfoGroups,
      }),
      stream({
        name: 'xinfo|consumers',
        arity: 4,
        since: '5.0.0',
        summary: 'Returns a list of the consumers in a consumer group.',
        flags: ['readonly'],
        firstKey: 2,
        lastKey: 2,
        handler: xinfoConsumers,
      }),
      def({
        name: 'xinfo|help',
        arity: 2,
        group: 'stream',
        since: '5.0.0',
        summary: 'Returns helpful text about the different subcommands.',
        flags: ['loading', 'stale'],
        handler: (c) => writeHelp(c, XINFO_HELP),
      }),
    ],
  }),
];
