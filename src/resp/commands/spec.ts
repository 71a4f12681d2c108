import type { RespConnection } from '../connection.js';

/** Runs one command: reads `argv` (argv[0] is the name; views valid only during the call) and
 * writes exactly one reply (or, for (un)subscribe, one event per argument) to `c`. */
export type Handler = (c: RespConnection, argv: Buffer[]) => void;

/**
 * One command as Redis's commands/*.json declare it, and the one place herald declares it: the
 * table built from these drives dispatch, the unknown-command and arity errors, the RESP2
 * subscribed-context rule, `COMMAND INFO/DOCS/COUNT` and docs/redis.md's command list.
 * `arity` is Redis's: positive = exactly that many words (name included), negative = at least.
 * Key positions are 1-based (0 = the command takes no key). A container (CLIENT, CONFIG…) has
 * `subcommands` and no handler.
 */
export interface CommandSpec {
  readonly name: string;
  readonly arity: number;
  /** Redis command flags as COMMAND INFO shows them, e.g. `pubsub`, `loading`, `stale`, `fast`. */
  readonly flags: readonly string[];
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  /** Redis's group (`connection`, `server`, `pubsub`, `generic`, `stream`) and first version. */
  readonly group: string;
  readonly since: string;
  readonly summary: string;
  readonly handler?: Handler;
  readonly subcommands?: readonly CommandSpec[];
  /** True for the commands a RESP2 client in subscribed context may still send (Redis server.c
   * processCommand: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT, RESET). */
  readonly inSubscribedContext?: boolean;
  /** Channel arguments checked against the user's subject permissions before the command runs
   * (Redis's ACL channel check): `publish` = argv[1], `subscribe` = every argument. */
  readonly channels?: 'publish' | 'subscribe';
}

/** What a family file writes for one command; `def` fills the defaults (no keys, no flags). */
export type CommandDef = Partial<CommandSpec> & Pick<CommandSpec, 'name' | 'arity' | 'group' | 'since' | 'summary'>;

export function def(d: CommandDef): CommandSpec {
  return { flags: [], firstKey: 0, lastKey: 0, step: 0, ...d };
}

/** Commands a user with subject permissions may never run, beyond those flagged admin: Redis 7.0
 * puts them in ACL `@dangerous` (commands/*.json acl_categories) — they wipe server-wide state
 * (FLUSHALL, FLUSHDB) or show every client and the server's internals (INFO). */
const ADMIN_NAMES: ReadonlySet<string> = new Set(['flushall', 'flushdb', 'debug', 'info']);
/** Containers whose every subcommand is administrative. */
const ADMIN_CONTAINERS = ['config', 'function'];

/** True when `spec` (a command or resolved subcommand) is administrative: refused with NOPERM to a
 * user that has subject permissions (docs/security.md, "The Redis door"). */
export function isAdminCommand(spec: CommandSpec): boolean {
  if (ADMIN_NAMES.has(spec.name) || spec.flags.includes('admin') || spec.flags.includes('dangerous')) return true;
  const bar = spec.name.indexOf('|');
  return ADMIN_CONTAINERS.includes(bar < 0 ? spec.name : spec.name.slice(0, bar));
}
