/**
 * Server commands (Redis group `server`): INFO, CONFIG GET/SET/RESETSTAT, COMMAND
 * COUNT/INFO/DOCS/LIST, FUNCTION FLUSH. Field names and shapes from Redis 7.x server.c
 * (genRedisInfoString, commandCommand) and config.c.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { RedisErrors, redisError } from '../../core/errors.js';
import { authRequired } from '../../core/auth.js';
import { HERALD_VERSION } from '../../version.js';
import type { RespConnection } from '../connection.js';
import { def, type CommandSpec } from './spec.js';
import { REDIS_COMPAT_VERSION } from './connection.js';

/** Stable per process, as Redis's run_id is per server start. */
const RUN_ID = randomBytes(20).toString('hex');

/** Sections INFO prints with no argument, `default` or `all` (server.c genRedisInfoString). */
const DEFAULT_SECTIONS = [
  'server',
  'clients',
  'memory',
  'persistence',
  'stats',
  'replication',
  'cpu',
  'errorstats',
  'cluster',
  'keyspace',
];

function humanBytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n}B` : `${v.toFixed(2)}${units[i]}`;
}

/** One INFO section as `key:value` lines, or null for an unknown section. */
function section(c: RespConnection, name: string): [string, (string | number)[][]] | null {
  const d = c.door;
  const now = Date.now();
  const mem = process.memoryUsage();
  switch (name) {
    case 'server': {
      const up = Math.floor((now - d.opts.serverStartedAt.getTime()) / 1000);
      return [
        'Server',
        [
          ['redis_version', REDIS_COMPAT_VERSION],
          ['redis_git_sha1', '00000000'],
          ['redis_git_dirty', 0],
          ['redis_mode', 'standalone'],
          ['herald_version', HERALD_VERSION],
          ['os', `${os.type()} ${os.release()} ${os.arch()}`],
          ['arch_bits', 64],
          ['multiplexing_api', 'node'],
          ['process_id', process.pid],
          ['run_id', RUN_ID],
          ['tcp_port', d.port],
          ['server_time_usec', now * 1000],
          ['uptime_in_seconds', up],
          ['uptime_in_days', Math.floor(up / 86400)],
          ['hz', 10],
          ['executable', process.argv[1] ?? ''],
          ['config_file', ''],
        ],
      ];
    }
    case 'clients': {
      return [
        'Clients',
        [
          ['connected_clients', d.connections.size],
          ['cluster_connections', 0],
          ['maxclients', 10000],
          ['client_recent_max_input_buffer', 0],
          ['client_recent_max_output_buffer', 0],
          ['blocked_clients', d.blocking.blockedClients],
          ['tracking_clients', 0],
          ['pubsub_clients', d.pubsubClients],
          ['clients_in_timeout_table', 0],
          ['total_blocking_keys', d.blocking.totalBlockingKeys],
          ['total_blocking_keys_on_nokey', 0],
        ],
      ];
    }
    case 'memory': {
      const max = d.config.get(['maxmemory'])[0]?.[1] ?? '0';
      return [
        'Memory',
        [
          ['used_memory', mem.heapUsed + mem.external],
          ['used_memory_human', humanBytes(mem.heapUsed + mem.external)],
          ['used_memory_rss', mem.rss],
          ['used_memory_rss_human', humanBytes(mem.rss)],
          ['total_system_memory', os.totalmem()],
          ['total_system_memory_human', humanBytes(os.totalmem())],
          ['maxmemory', max],
          ['maxmemory_human', humanBytes(Number(max) || 0)],
          ['maxmemory_policy', 'noeviction'],
          ['mem_allocator', 'node'],
        ],
      ];
    }
    case 'persistence':
      return [
        'Persistence',
        [
          ['loading', 0],
          ['async_loading', 0],
          ['rdb_changes_since_last_save', d.keyspace.dirty],
          ['rdb_bgsave_in_progress', 0],
          ['rdb_last_save_time', Math.floor(d.opts.serverStartedAt.getTime() / 1000)],
          ['rdb_last_bgsave_status', 'ok'],
          // The keyspace log's own fields (src/resp/durability.ts): aof_enabled, write status, sizes.
          ...(d.durability?.info() ?? [
            ['aof_enabled', 0],
            ['aof_rewrite_in_progress', 0],
            ['aof_last_write_status', 'ok'],
          ]),
        ],
      ];
    case 'stats': {
      const s = d.stats;
      return [
        'Stats',
        [
          ['total_connections_received', s.totalConnections],
          ['total_commands_processed', s.totalCommands],
          ['instantaneous_ops_per_sec', 0],
          ['rejected_connections', s.rejectedConnections],
          ['expired_keys', 0],
          ['evicted_keys', 0],
          ['keyspace_hits', 0],
          ['keyspace_misses', 0],
          ['pubsub_channels', d.channelSubs.size],
          ['pubsub_patterns', d.patternSubs.size],
          ['pubsubshard_channels', d.shardSubs.size],
          ['total_error_replies', s.totalErrorReplies],
          ['client_output_buffer_limit_disconnections', s.outputBufferLimitDisconnections],
        ],
      ];
    }
    case 'errorstats':
      return ['Errorstats', [...d.stats.errors].map(([code, n]) => [`errorstat_${code}`, `count=${n}`])];
    case 'replication':
      return [
        'Replication',
        [
          ['role', 'master'],
          ['connected_slaves', 0],
          ['master_replid', RUN_ID],
          ['master_repl_offset', 0],
        ],
      ];
    case 'cpu': {
      const u = process.cpuUsage();
      return [
        'CPU',
        [
          ['used_cpu_sys', (u.system / 1e6).toFixed(6)],
          ['used_cpu_user', (u.user / 1e6).toFixed(6)],
        ],
      ];
    }
    case 'cluster':
      return ['Cluster', [['cluster_enabled', 0]]];
    case 'keyspace': {
      const rows: (string | number)[][] = [];
      d.keyspace.dbs.forEach((m, i) => {
        if (m.size > 0) rows.push([`db${i}`, `keys=${m.size},expires=0,avg_ttl=0`]);
      });
      return ['Keyspace', rows];
    }
    default:
      return null;
  }
}

function info(c: RespConnection, argv: Buffer[]): void {
  let names = argv.slice(1).map((b) => b.toString('latin1').toLowerCase());
  if (names.length === 0 || names.includes('default') || names.includes('all') || names.includes('everything')) {
    names = [...new Set([...DEFAULT_SECTIONS, ...names.filter((n) => !['default', 'all', 'everything'].includes(n))])];
  }
  const parts: string[] = [];
  for (const n of new Set(names)) {
    const s = section(c, n);
    if (s === null) continue;
    parts.push(`# ${s[0]}\r\n${s[1].map(([k, v]) => `${k}:${v}\r\n`).join('')}`);
  }
  c.writer.verbatim(parts.join('\r\n'));
}

function configGet(c: RespConnection, argv: Buffer[]): void {
  const pairs = c.door.config.get(argv.slice(2).map((b) => b.toString('latin1')));
  c.writer.map(pairs.length);
  for (const [k, v] of pairs) {
    c.writer.bulk(k);
    c.writer.bulk(v);
  }
}

/** Why CONFIG SET requirepass is refused when herald's auth config has users or a token. */
const REQUIREPASS_OWNED = "logins are set by herald's authorization config";

function configSet(c: RespConnection, argv: Buffer[]): void {
  if (argv.length % 2 !== 0) return c.error(RedisErrors.Syntax); // config.c configSetCommand
  const cfg = c.door.config;
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i].toString('latin1');
    if (!cfg.has(name.toLowerCase())) return c.error(redisError(RedisErrors.ConfigSetUnknown, { name }));
    // With herald users or a token configured, herald's auth config owns logins: a requirepass
    // set here would open the unrestricted `default` user (docs/security.md, "The Redis door").
    if (name.toLowerCase() === 'requirepass' && authRequired(c.door.auth)) {
      return c.error(redisError(RedisErrors.ConfigSetFailed, { name, reason: REQUIREPASS_OWNED }));
    }
  }
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i].toString('latin1');
    const reason = cfg.set(name.toLowerCase(), argv[i + 1].toString('latin1'));
    if (reason !== null) return c.error(redisError(RedisErrors.ConfigSetFailed, { name, reason }));
  }
  c.writer.simple('OK');
}

function configResetstat(c: RespConnection): void {
  c.door.stats.reset();
  c.writer.simple('OK');
}

// ---- COMMAND ----

/** One COMMAND INFO entry (7.x: 10 fields). */
function writeCommandInfo(c: RespConnection, s: CommandSpec): void {
  const w = c.writer;
  w.array(10);
  w.bulk(s.name);
  w.int(s.arity);
  w.set(s.flags.length);
  for (const f of s.flags) w.simple(f);
  w.int(s.firstKey);
  w.int(s.lastKey);
  w.int(s.step);
  w.set(1);
  w.simple(`@${s.group}`);
  w.set(0);
  w.array(0);
  const subs = s.subcommands ?? [];
  w.array(subs.length);
  for (const sub of subs) writeCommandInfo(c, sub);
}

/** One COMMAND DOCS entry: summary, since, group (and subcommands). */
function writeCommandDocs(c: RespConnection, s: CommandSpec): void {
  const w = c.writer;
  const subs = s.subcommands ?? [];
  w.map(subs.length > 0 ? 4 : 3);
  w.bulk('summary');
  w.bulk(s.summary);
  w.bulk('since');
  w.bulk(s.since);
  w.bulk('group');
  w.bulk(s.group);
  if (subs.length > 0) {
    w.bulk('subcommands');
    w.map(subs.length);
    for (const sub of subs) {
      w.bulk(sub.name);
      writeCommandDocs(c, sub);
    }
  }
}

function topLevel(c: RespConnection): CommandSpec[] {
  const out: CommandSpec[] = [];
  for (const [k, s] of c.door.commands) if (k === s.name && !k.includes('|')) out.push(s);
  return out;
}

function command(c: RespConnection): void {
  const all = topLevel(c);
  c.writer.array(all.length);
  for (const s of all) writeCommandInfo(c, s);
}

function commandInfo(c: RespConnection, argv: Buffer[]): void {
  const list = argv.length > 2 ? argv.slice(2).map((b) => c.door.commands.get(b.toString('latin1').toLowerCase())) : topLevel(c);
  c.writer.array(list.length);
  for (const s of list) {
    if (s === undefined) c.writer.nilArray();
    else writeCommandInfo(c, s);
  }
}

function commandDocs(c: RespConnection, argv: Buffer[]): void {
  const list =
    argv.length > 2
      ? argv
          .slice(2)
          .map((b) => c.door.commands.get(b.toString('latin1').toLowerCase()))
          .filter((s): s is CommandSpec => s !== undefined)
      : topLevel(c);
  c.writer.map(list.length);
  for (const s of list) {
    c.writer.bulk(s.name);
    writeCommandDocs(c, s);
  }
}

function commandList(c: RespConnection): void {
  const all = topLevel(c);
  c.writer.array(all.length);
  for (const s of all) c.writer.bulk(s.name);
}

function flushArg(c: RespConnection, argv: Buffer[], from: number): boolean {
  if (argv.length > from + 1) {
    c.error(RedisErrors.Syntax);
    return false;
  }
  if (argv.length === from + 1) {
    const m = argv[from].toString('latin1').toLowerCase();
    if (m !== 'async' && m !== 'sync') {
      c.error(RedisErrors.Syntax);
      return false;
    }
  }
  return true;
}

const admin = ['admin', 'noscript', 'loading', 'stale'];

/** The server family's table entries. */
export const SERVER_COMMANDS: readonly CommandSpec[] = [
  def({
    name: 'info',
    arity: -1,
    group: 'server',
    since: '1.0.0',
    summary: 'Returns information and statistics about the server.',
    flags: ['loading', 'stale'],
    handler: info,
  }),
  def({
    name: 'config',
    arity: -2,
    group: 'server',
    since: '2.0.0',
    summary: 'A container for server configuration commands.',
    subcommands: [
      def({
        name: 'config|get',
        arity: -3,
        group: 'server',
        since: '2.0.0',
        summary: 'Returns the effective values of configuration parameters.',
        flags: admin,
        handler: configGet,
      }),
      def({
        name: 'config|set',
        arity: -4,
        group: 'server',
        since: '2.0.0',
        summary: 'Sets configuration parameters in-flight.',
        flags: admin,
        handler: configSet,
      }),
      def({
        name: 'config|resetstat',
        arity: 2,
        group: 'server',
        since: '2.0.0',
        summary: "Resets the server's statistics.",
        flags: admin,
        handler: configResetstat,
      }),
    ],
  }),
  def({
    name: 'command',
    arity: -1,
    group: 'server',
    since: '2.8.13',
    summary: 'Returns detailed information about all commands.',
    flags: ['loading', 'stale'],
    handler: command,
    subcommands: [
      def({
        name: 'command|count',
        arity: 2,
        group: 'server',
        since: '2.8.13',
        summary: 'Returns a count of commands.',
        flags: ['loading', 'stale'],
        handler: (c) => c.writer.int(topLevel(c).length),
      }),
      def({
        name: 'command|info',
        arity: -2,
        group: 'server',
        since: '2.8.13',
        summary: 'Returns information about one, multiple or all commands.',
        flags: ['loading', 'stale'],
        handler: commandInfo,
      }),
      def({
        name: 'command|docs',
        arity: -2,
        group: 'server',
        since: '7.0.0',
        summary: 'Returns documentary information about one, multiple or all commands.',
        flags: ['loading', 'stale'],
        handler: commandDocs,
      }),
      def({
        name: 'command|list',
        arity: -2,
        group: 'server',
        since: '7.0.0',
        summary: 'Returns a list of command names.',
        flags: ['loading', 'stale'],
        handler: commandList,
      }),
    ],
  }),
  def({
    name: 'function',
    arity: -2,
    group: 'scripting',
    since: '7.0.0',
    summary: 'A container for function commands.',
    subcommands: [
      def({
        name: 'function|flush',
        arity: -2,
        group: 'scripting',
        since: '7.0.0',
        summary: 'Deletes all libraries and functions (herald has none yet).',
        flags: ['write', 'noscript'],
        handler: (c, a) => {
          if (a.length > 3) return c.error(RedisErrors.Syntax);
          const m = a.length === 3 ? a[2].toString('latin1').toLowerCase() : 'sync';
          if (m !== 'sync' && m !== 'async') return c.error(RedisErrors.FunctionFlushMode);
          c.writer.simple('OK');
        },
      }),
    ],
  }),
];

export { flushArg };
