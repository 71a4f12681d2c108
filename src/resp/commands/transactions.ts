/**
 * Transactions (Redis group `transactions`): MULTI, EXEC, DISCARD, WATCH, UNWATCH, as Redis 7.0
 * multi.c. While a client is in MULTI, src/resp/connection.ts queues every other command (after
 * the same unknown/arity/context/permission checks as outside, which flag the transaction so EXEC
 * answers EXECABORT) and answers `+QUEUED`; EXEC then runs the queue here, in one synchronous
 * turn, so no other client's command runs in between. WATCH flags ride on the keyspace
 * (src/resp/keyspace.ts `watch`/`touch`).
 *
 * Design note for the durable log: EXEC's whole array is one reply; when replies wait for an
 * fsync, the barrier goes around EXEC's array as a unit, never inside it.
 */
import { RedisErrors } from '../../core/errors.js';
import type { RespConnection } from '../connection.js';
import type { Watcher } from '../keyspace.js';
import { def, type CommandSpec } from './spec.js';

/** One queued command: its table entry and its arguments, copied out of the read Buffer. */
export interface QueuedCommand {
  readonly spec: CommandSpec;
  readonly argv: Buffer[];
}

/**
 * One client's MULTI state: the queued commands and whether a queue-time error aborted it (Redis
 * CLIENT_DIRTY_EXEC). Costs a copy of each queued command's arguments until EXEC or DISCARD.
 */
export class MultiState {
  readonly queue: QueuedCommand[] = [];
  aborted = false;
}

/**
 * One client's WATCHed keys and its dirty-CAS flag (Watcher). Costs one entry here and one in the
 * keyspace per watched key.
 */
export class WatchState implements Watcher {
  dirtyCas = false;
  readonly keys: { db: number; key: string }[] = [];
}

/** Drops every WATCH of `c` (EXEC, DISCARD, UNWATCH, RESET, close). */
export function unwatchAll(c: RespConnection): void {
  const w = c.watching;
  if (w === null) return;
  for (const k of w.keys) c.door.keyspace.unwatch(k.db, k.key, w);
  c.watching = null;
}

/** Leaves MULTI and drops the watches (multi.c discardTransaction). */
export function discardTransaction(c: RespConnection): void {
  c.multi = null;
  unwatchAll(c);
}

function multi(c: RespConnection): void {
  if (c.multi !== null) return c.error(RedisErrors.MultiNested);
  c.multi = new MultiState();
  c.writer.simple('OK');
}

function exec(c: RespConnection): void {
  const m = c.multi;
  if (m === null) return c.error(RedisErrors.ExecWithoutMulti);
  if (m.aborted) {
    discardTransaction(c);
    return c.error(RedisErrors.ExecAbort);
  }
  if (c.watching?.dirtyCas === true) {
    discardTransaction(c);
    return c.writer.nilArray();
  }
  discardTransaction(c);
  c.writer.array(m.queue.length);
  runQueue(c, m.queue, 0);
}

/** Runs `queue` from `from`. A command that waits for an asynchronous verdict (AUTH with bcrypt)
 * suspends the client; the rest of the queue runs when it settles, still before any later command
 * of this client (other clients may run in between: only then). */
function runQueue(c: RespConnection, queue: readonly QueuedCommand[], from: number): void {
  c.inExec = true;
  for (let i = from; i < queue.length; i++) {
    c.call(queue[i].spec, queue[i].argv);
    if (c.suspendedNow) {
      c.resumeWith = () => runQueue(c, queue, i + 1);
      break;
    }
  }
  c.inExec = false;
}

function discard(c: RespConnection): void {
  if (c.multi === null) return c.error(RedisErrors.DiscardWithoutMulti);
  discardTransaction(c);
  c.writer.simple('OK');
}

function watch(c: RespConnection, argv: Buffer[]): void {
  if (c.multi !== null) return c.error(RedisErrors.WatchInsideMulti);
  const w = (c.watching ??= new WatchState());
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i].toString('latin1');
    if (w.keys.some((k) => k.db === c.db && k.key === key)) continue;
    w.keys.push({ db: c.db, key });
    c.door.keyspace.watch(c.db, key, w);
  }
  c.writer.simple('OK');
}

function unwatch(c: RespConnection): void {
  unwatchAll(c);
  c.writer.simple('OK');
}

const flags = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'];

/** The transactions family's table entries. */
export const TRANSACTION_COMMANDS: readonly CommandSpec[] = [
  def({
    name: 'multi',
    arity: 1,
    group: 'transactions',
    since: '1.2.0',
    summary: 'Starts a transaction.',
    flags,
    handler: multi,
  }),
  def({
    name: 'exec',
    arity: 1,
    group: 'transactions',
    since: '1.2.0',
    summary: 'Executes all commands in a transaction.',
    flags: ['noscript', 'loading', 'stale', 'skip_slowlog'],
    handler: exec,
  }),
  def({
    name: 'discard',
    arity: 1,
    group: 'transactions',
    since: '2.0.0',
    summary: 'Discards a transaction.',
    flags,
    handler: discard,
  }),
  def({
    name: 'watch',
    arity: -2,
    group: 'transactions',
    since: '2.2.0',
    summary: 'Monitors changes to keys to determine the execution of a transaction.',
    flags,
    firstKey: 1,
    lastKey: -1,
    step: 1,
    handler: watch,
  }),
  def({
    name: 'unwatch',
    arity: 1,
    group: 'transactions',
    since: '2.2.0',
    summary: 'Forgets about watched keys of a transaction.',
    flags,
    handler: unwatch,
  }),
];

/** Commands that run at once inside MULTI instead of being queued (server.c processCommand). */
export const NOT_QUEUED = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);
