/**
 * Redis Streams consumer-group commands (Redis group `stream`): XGROUP CREATE/SETID/DESTROY/
 * CREATECONSUMER/DELCONSUMER, XREADGROUP (with BLOCK), XACK, XPENDING, XCLAIM, XAUTOCLAIM.
 * Argument order and error precedence follow t_stream.c (redis-server 7.0.15); semantics live in
 * src/stream/redis/model.ts.
 */
import { RedisErrors, redisError } from '../../core/errors.js';
import type { RespConnection } from '../connection.js';
import { def, type CommandSpec } from './spec.js';
import { ID_MAX, parseId, type StreamId } from '../../stream/redis/id.js';
import type { ReadEntry, RedisStream } from '../../stream/redis/model.js';
import type { Group } from '../../stream/redis/group.js';
import {
  blockRead,
  cName,
  intervalId,
  keyArg,
  longArg,
  parseRead,
  signalReady,
  streamError,
  strictId,
  writeEntries,
  writeEntry,
  writeHelp,
  writeId,
  writeReadReply,
} from './streams.js';

const is = (b: Buffer, word: string): boolean => b.length === word.length && b.toString('latin1').toLowerCase() === word;

// ---- XGROUP ----

/** t_stream.c xgroupCommand: options, then the key and group checks, then the subcommand. */
function xgroup(c: RespConnection, argv: Buffer[]): void {
  const sub = argv[1].toString('latin1').toLowerCase();
  const m = c.door.streams;
  const key = keyArg(argv[2]);
  const group = keyArg(argv[3]);
  let mkstream = false;
  let entriesRead: number | null = null;
  for (let i = 5; i < argv.length;) {
    if (sub === 'create' && is(argv[i], 'mkstream')) {
      mkstream = true;
      i++;
    } else if ((sub === 'create' || sub === 'setid') && is(argv[i], 'entriesread') && i + 1 < argv.length) {
      const v = longArg(c, argv[i + 1]);
      if (v === null) return;
      if (v < 0 && v !== -1) return c.error(RedisErrors.EntriesReadNegative);
      entriesRead = v === -1 ? null : v;
      i += 2;
    } else return c.error(redisError(RedisErrors.SubcommandSyntax, { sub: cName(argv[1]), cmd: 'XGROUP' }));
  }
  const s = m.lookup(c.db, key);
  if (s === 'wrongtype') return c.error(RedisErrors.WrongType);
  if (!mkstream) {
    if (s === undefined) return c.error(RedisErrors.XgroupNeedsKey);
    if (!s.groups.has(group) && (sub === 'setid' || sub === 'createconsumer' || sub === 'delconsumer'))
      return c.error(redisError(RedisErrors.NoGroup, { group: cName(argv[3]), key: cName(argv[2]) }));
  }
  const syntax = (): void => c.error(redisError(RedisErrors.SubcommandSyntax, { sub: cName(argv[1]), cmd: 'XGROUP' }));
  const w = c.writer;
  switch (sub) {
    case 'create': {
      if (argv.length > 8) return syntax();
      let id: StreamId | null = null;
      if (!(argv[4].length === 1 && argv[4][0] === 0x24)) {
        id = strictId(c, argv[4]);
        if (id === null) return;
      }
      const r = m.groupCreate(c.db, key, group, id, mkstream, entriesRead);
      if (r !== null) return streamError(c, r);
      return w.simple('OK');
    }
    case 'setid': {
      if (argv.length !== 5 && argv.length !== 7) return syntax();
      let id: StreamId | null = null;
      if (!(argv[4].length === 1 && argv[4][0] === 0x24)) {
        const p = parseId(argv[4], 0n, false);
        if (p === null) return c.error(RedisErrors.StreamInvalidId);
        id = p.id;
      }
      const r = m.groupSetId(c.db, key, group, id, entriesRead);
      if (r !== null) return streamError(c, r, cName(argv[2]), cName(argv[3]));
      return w.simple('OK');
    }
    case 'destroy': {
      const r = m.groupDestroy(c.db, key, group);
      if (typeof r === 'string') return streamError(c, r);
      w.int(r);
      if (r === 1) signalReady(c, key);
      return;
    }
    case 'createconsumer': {
      const r = m.consumerCreate(c.db, key, group, keyArg(argv[4]));
      return typeof r === 'string' ? streamError(c, r, cName(argv[2]), cName(argv[3])) : w.int(r);
    }
    case 'delconsumer': {
      const r = m.consumerDelete(c.db, key, group, keyArg(argv[4]));
      return typeof r === 'string' ? streamError(c, r, cName(argv[2]), cName(argv[3])) : w.int(r);
    }
    default:
      return syntax();
  }
}

const XGROUP_HELP = [
  'XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
  'HELP',
  '    Prints this help.',
];

// ---- XREADGROUP ----

function xreadgroup(c: RespConnection, argv: Buffer[]): void {
  const a = parseRead(c, argv, true);
  if (a === null) return;
  const m = c.door.streams;
  const consumer = keyArg(a.consumer as Buffer);
  const out: { key: Buffer; entries: ReadEntry[] }[] = [];
  for (let i = 0; i < a.keys.length; i++) {
    const key = keyArg(a.keys[i]);
    const s = m.lookup(c.db, key) as RedisStream | undefined;
    if (s === undefined) continue;
    const g = a.groups[i];
    const after = a.ids[i];
    if (after === null) {
      const top = s.length > 0 ? (s.last()?.id ?? 0n) : null;
      if (top === null || top <= g.lastId) continue;
    }
    out.push({ key: a.keys[i], entries: m.readGroup(c.db, key, s, g, consumer, after, a.count, a.noack) });
  }
  if (out.length > 0) return writeReadReply(c.writer, out);
  if (a.timeout === -1 || c.inExec) return c.writer.nilArray();
  const groupName = keyArg(a.group as Buffer);
  blockRead(c, a, (key) => {
    const s = m.lookup(c.db, key);
    if (s === 'wrongtype') return null;
    const g = s?.groups.get(groupName);
    if (g === undefined) return RedisErrors.NoGroupBlocked;
    if ((s as RedisStream).lastId <= g.lastId) return null;
    return m.readGroup(c.db, key, s as RedisStream, g, consumer, null, a.count || 1000, a.noack);
  });
}

// ---- XACK / XPENDING / XCLAIM / XAUTOCLAIM ----

function xack(c: RespConnection, argv: Buffer[]): void {
  const key = keyArg(argv[1]);
  const s = c.door.streams.lookup(c.db, key);
  if (s === 'wrongtype') return c.error(RedisErrors.WrongType);
  if (s === undefined || !s.groups.has(keyArg(argv[2]))) return c.writer.int(0);
  const ids: StreamId[] = [];
  for (let j = 3; j < argv.length; j++) {
    const id = strictId(c, argv[j]);
    if (id === null) return;
    ids.push(id);
  }
  c.writer.int(c.door.streams.ack(c.db, key, keyArg(argv[2]), ids) as number);
}

/** The stream and group for XPENDING/XCLAIM/XAUTOCLAIM, or null after Redis's error. */
function groupFor(c: RespConnection, argv: Buffer[]): { s: RedisStream; g: Group } | null {
  const s = c.door.streams.lookup(c.db, keyArg(argv[1]));
  if (s === 'wrongtype') return (c.error(RedisErrors.WrongType), null);
  const g = s?.groups.get(keyArg(argv[2]));
  if (s === undefined || g === undefined) {
    c.error(redisError(RedisErrors.NoGroupKey, { key: cName(argv[1]), group: cName(argv[2]) }));
    return null;
  }
  return { s, g };
}

function xpending(c: RespConnection, argv: Buffer[]): void {
  const n = argv.length;
  const justInfo = n === 3;
  if (n !== 3 && (n < 6 || n > 9)) return c.error(RedisErrors.Syntax);
  let start = 0n;
  let end = ID_MAX;
  let count = 0;
  let minIdle = 0;
  let consumerName: Buffer | null = null;
  if (n >= 6) {
    let si = 3;
    if (is(argv[3], 'idle')) {
      const v = longArg(c, argv[4]);
      if (v === null) return;
      minIdle = v;
      if (n < 8) return c.error(RedisErrors.Syntax);
      si += 2;
    }
    const cv = longArg(c, argv[si + 2]);
    if (cv === null) return;
    count = Math.max(cv, 0);
    const st = intervalId(c, argv[si], 0n, true);
    if (st === null) return;
    const en = intervalId(c, argv[si + 1], (1n << 64n) - 1n, false);
    if (en === null) return;
    start = st;
    end = en;
    if (si + 3 < n) consumerName = argv[si + 3];
  }
  const r = groupFor(c, argv);
  if (r === null) return;
  const { g } = r;
  const w = c.writer;
  if (justInfo) {
    w.array(4);
    w.int(g.pel.size);
    if (g.pel.size === 0) {
      w.nil();
      w.nil();
      w.nilArray();
      return;
    }
    writeId(w, g.pel.firstKey() as StreamId);
    writeId(w, g.pel.lastKey() as StreamId);
    const cs = g.sortedConsumers().filter((x) => x.pel.size > 0);
    w.array(cs.length);
    for (const x of cs) {
      w.array(2);
      w.bulk(x.name);
      w.bulk(String(x.pel.size));
    }
    return;
  }
  let pel = g.pel;
  if (consumerName !== null) {
    const cn = g.consumers.get(keyArg(consumerName));
    if (cn === undefined) return w.array(0);
    pel = cn.pel;
  }
  const now = Date.now();
  const rows: [StreamId, { owner: { name: string }; time: number; count: number }][] = [];
  if (count > 0) {
    for (const [id, p] of pel.between(start, end)) {
      if (minIdle > 0 && now - p.time < minIdle) continue;
      rows.push([id, p]);
      if (rows.length >= count) break;
    }
  }
  w.array(rows.length);
  for (const [id, p] of rows) {
    w.array(4);
    writeId(w, id);
    w.bulk(p.owner.name);
    w.int(Math.max(0, now - p.time));
    w.int(p.count);
  }
}

function xclaim(c: RespConnection, argv: Buffer[]): void {
  const r = groupFor(c, argv);
  if (r === null) return;
  let minIdle = longArg(c, argv[4], RedisErrors.XclaimMinIdle);
  if (minIdle === null) return;
  if (minIdle < 0) minIdle = 0;
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const p = parseId(argv[j], 0n, true);
    if (p === null) break;
    ids.push(p.id);
  }
  const now = Date.now();
  let time: number | null = null;
  let retryCount: number | null = null;
  let force = false;
  let justId = false;
  let lastId: StreamId | null = null;
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const o = argv[j].toString('latin1').toLowerCase();
    if (o === 'force') force = true;
    else if (o === 'justid') justId = true;
    else if (o === 'idle' && more > 0) {
      const v = longArg(c, argv[++j], RedisErrors.XclaimIdle);
      if (v === null) return;
      time = now - v;
    } else if (o === 'time' && more > 0) {
      const v = longArg(c, argv[++j], RedisErrors.XclaimTime);
      if (v === null) return;
      time = v;
    } else if (o === 'retrycount' && more > 0) {
      const v = longArg(c, argv[++j], RedisErrors.XclaimRetryCount);
      if (v === null) return;
      retryCount = v;
    } else if (o === 'lastid' && more > 0) {
      const v = strictId(c, argv[++j]);
      if (v === null) return;
      lastId = v;
    } else return c.error(redisError(RedisErrors.XclaimUnknownOption, { opt: cName(argv[j]) }));
  }
  const out = c.door.streams.claim(c.db, keyArg(argv[1]), r.s, r.g, keyArg(argv[3]), ids, {
    minIdle,
    time,
    retryCount: retryCount !== null && retryCount >= 0 ? retryCount : null,
    force,
    justId,
    lastId,
  });
  const w = c.writer;
  w.array(out.length);
  for (const e of out) {
    if (justId) writeId(w, e.id);
    else writeEntry(w, e);
  }
}

function xautoclaim(c: RespConnection, argv: Buffer[]): void {
  let minIdle = longArg(c, argv[4], RedisErrors.XautoclaimMinIdle);
  if (minIdle === null) return;
  if (minIdle < 0) minIdle = 0;
  const start = intervalId(c, argv[5], 0n, true);
  if (start === null) return;
  let count = 100;
  let justId = false;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (is(argv[j], 'count') && more > 0) {
      const v = longArg(c, argv[j + 1], RedisErrors.XautoclaimCount);
      if (v === null) return;
      if (v < 1 || v > Math.floor(Number.MAX_SAFE_INTEGER / 16)) return c.error(RedisErrors.XautoclaimCount);
      count = v;
      j++;
    } else if (is(argv[j], 'justid')) justId = true;
    else return c.error(RedisErrors.Syntax);
  }
  const r = groupFor(c, argv);
  if (r === null) return;
  const res = c.door.streams.autoclaim(c.db, keyArg(argv[1]), r.s, r.g, keyArg(argv[3]), minIdle, start, count, justId);
  const w = c.writer;
  w.array(3);
  writeId(w, res.cursor);
  if (justId) {
    w.array(res.claimed.length);
    for (const e of res.claimed) writeId(w, e.id);
  } else writeEntries(w, res.claimed);
  w.array(res.deleted.length);
  for (const id of res.deleted) writeId(w, id);
}

const stream = (d: Omit<Parameters<typeof def>[0], 'group'>): CommandSpec =>
  def({ group: 'stream', firstKey: 1, lastKey: 1, step: 1, ...d });
const xg = (name: string, arity: number, summary: string, flags: string[]): CommandSpec =>
  stream({ name: `xgroup|${name}`, arity, since: '5.0.0', summary, flags, firstKey: 2, lastKey: 2, handler: xgroup });

/** The consumer-group family's table entries (Redis's commands/*.json arity, flags, keys). */
export const GROUP_COMMANDS: readonly CommandSpec[] = [
  def({
    name: 'xgroup',
    arity: -2,
    group: 'stream',
    since: '5.0.0',
    summary: 'A container for consumer groups commands.',
    subcommands: [
      xg('create', -5, 'Creates a consumer group.', ['write', 'denyoom']),
      xg('setid', -5, 'Sets the last-delivered ID of a consumer group.', ['write']),
      xg('destroy', 4, 'Destroys a consumer group.', ['write']),
      xg('createconsumer', 5, 'Creates a consumer in a consumer group.', ['write', 'denyoom']),
      xg('delconsumer', 5, 'Deletes a consumer from a consumer group.', ['write']),
      def({
        name: 'xgroup|help',
        arity: 2,
        group: 'stream',
        since: '5.0.0',
        summary: 'Returns helpful text about the different subcommands.',
        flags: ['loading', 'stale'],
        handler: (c) => writeHelp(c, XGROUP_HELP),
      }),
    ],
  }),
  stream({
    name: 'xreadgroup',
    arity: -7,
    since: '5.0.0',
    summary:
      'Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.',
    flags: ['write', 'blocking', 'movablekeys'],
    firstKey: 0,
    lastKey: 0,
    step: 0,
    handler: xreadgroup,
  }),
  stream({
    name: 'xack',
    arity: -4,
    since: '5.0.0',
    summary: 'Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.',
    flags: ['write', 'fast'],
    handler: xack,
  }),
  stream({
    name: 'xpending',
    arity: -3,
    since: '5.0.0',
    summary: "Returns the information and entries from a stream consumer group's pending entries list.",
    flags: ['readonly'],
    handler: xpending,
  }),
  stream({
    name: 'xclaim',
    arity: -6,
    since: '5.0.0',
    summary:
      'Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.',
    flags: ['write', 'fast'],
    handler: xclaim,
  }),
  stream({
    name: 'xautoclaim',
    arity: -6,
    since: '6.2.0',
    summary:
      'Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.',
    flags: ['write', 'fast'],
    handler: xautoclaim,
  }),
];
