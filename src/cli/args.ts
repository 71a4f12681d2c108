/**
 * The command line: `herald [serve|bench|help|version] [flags]`, and the `nats-server` drop-in
 * (`nats-server -c <conf>` and the other nats-server flags, parsed the way Go's flag package
 * does: `-x` and `--x` are the same, `-x=v` or `-x v`). Precedence, lowest first: defaults for
 * the way herald was invoked, the config file, flags (the last of a repeated flag wins).
 * docs/configuration.md lists every flag and key.
 */
import { basename } from 'node:path';
import { defaultOptions, type Invocation } from '../config/defaults.js';
import { ConfigError } from '../config/errors.js';
import { loadConfigFile, MAX_INT32, validateOptions } from '../config/load.js';
import { UNLIMITED_CONNECTIONS, type ServerOptions } from '../config/options.js';
import { TLS_FLAGS, applyTlsFlags } from './tls-flags.js';
import {
  closest,
  formatDuration,
  formatSize,
  formatSync,
  isLogFormat,
  isLogLevel,
  LOG_FORMATS,
  LOG_LEVELS,
  MAX_PORT,
  parseSyncText,
  SYNC_ALLOWED,
} from '../config/values.js';

import {
  badValue,
  text,
  setter,
  intIn,
  sizeIn,
  positiveDuration,
  nonEmpty,
  OFF_WORDS,
  heraldPort,
  heraldOptionalPort,
  serverName,
  DURATION_ALLOWED,
  SIZE_HINT,
  AUTH_FLAGS,
  type State,
  type Flag,
} from './flag-kit.js';
import { NATS_FLAGS } from './nats-flags.js';

/** `--auth-timeout`'s setter (the flag also records that it was given, see applyTlsFlags). */
const setAuthTimeout = setter(DURATION_ALLOWED, positiveDuration, (o, v) => (o.authTimeoutMs = v));

export type { Invocation } from '../config/defaults.js';
export type { Flag, State } from './flag-kit.js';

/**
 * What the command line asks for. `options` is complete and validated for `serve`; for the other
 * commands it holds the defaults. `rest` is everything after `bench` (empty otherwise).
 */
export interface ParsedCommand {
  command: 'serve' | 'bench' | 'help' | 'version';
  options: ServerOptions;
  /** Ignored config keys, ignored flags and doubtful values, one line each. */
  warnings: string[];
  rest: string[];
}

// ---- herald's flags ----

const HERALD_FLAGS: readonly Flag[] = [
  ...AUTH_FLAGS,
  ...TLS_FLAGS,
  {
    section: 'Server',
    names: ['--config', '-c'],
    arg: 'FILE',
    help: 'Config file (NATS conf syntax; flags override its values)',
    run: (s, v) => (s.config = text(v)),
  },
  {
    section: 'Server',
    names: ['--host'],
    arg: 'HOST',
    help: 'Address the NATS door listens on (0.0.0.0 = every interface)',
    def: (d) => d.host,
    run: setter('a host name or IP address', nonEmpty, (o, v) => (o.host = v)),
  },
  {
    section: 'Server',
    names: ['--port', '-p'],
    arg: 'PORT',
    help: 'NATS client port; 0 or -1 = a random free port',
    def: (d) => String(d.port),
    run: setter(`a port from 1 to ${MAX_PORT}, or 0/-1 for a random port`, heraldPort, (o, v) => (o.port = v)),
  },
  {
    section: 'Server',
    names: ['--http-host'],
    arg: 'HOST',
    help: 'Address the monitoring HTTP server listens on',
    def: (d) => d.httpHost,
    run: setter('a host name or IP address', nonEmpty, (o, v) => (o.httpHost = v)),
  },
  {
    section: 'Server',
    names: ['--http-port'],
    arg: 'PORT|off',
    help: 'Monitoring port (/varz, /connz, /jsz, …); 0 or -1 = random, off = no monitoring',
    def: (d) => (d.httpPort === null ? 'off' : String(d.httpPort)),
    run: setter(`a port from 1 to ${MAX_PORT}, 0/-1 for a random port, or off`, heraldOptionalPort, (o, v) => (o.httpPort = v)),
  },
  {
    section: 'Server',
    names: ['--redis-port'],
    arg: 'PORT|off',
    help: 'Redis (RESP) port; 0 or -1 = random, off = no Redis door',
    def: (d) => (d.redisPort === null ? 'off' : String(d.redisPort)),
    run: setter(`a port from 1 to ${MAX_PORT}, 0/-1 for a random port, or off`, heraldOptionalPort, (o, v) => (o.redisPort = v)),
  },
  {
    section: 'Server',
    names: ['--redis-store'],
    arg: 'file|memory',
    help: 'Where the Redis keyspace lives: file = <data>/redis, durable per --sync; memory = lost on restart',
    def: (d) => d.redisStore,
    run: setter(
      "'file' or 'memory'",
      (t) => (t === 'file' || t === 'memory' ? t : undefined),
      (o, v) => (o.redisStore = v),
    ),
  },
  {
    section: 'Server',
    names: ['--server-name'],
    arg: 'NAME',
    help: 'Server name reported in INFO and /varz (no spaces)',
    def: (d) => (d.serverName === '' ? '(the server id)' : d.serverName),
    run: setter('a name without spaces', serverName, (o, v) => (o.serverName = v)),
  },
  {
    section: 'Server',
    names: ['--ports-file-dir'],
    arg: 'DIR',
    help: 'Write DIR/nats-server_<pid>.ports with the listening URLs once ready',
    def: () => 'none',
    run: setter('a directory path', nonEmpty, (o, v) => (o.portsFileDir = v)),
  },
  {
    section: 'Streams',
    names: ['--data', '--data-dir'],
    arg: 'DIR',
    help: 'Directory for durable state (streams under DIR/jetstream)',
    def: (d) => d.dataDir,
    run: setter('a directory path', nonEmpty, (o, v) => (o.dataDir = v)),
  },
  {
    section: 'Streams',
    names: ['--jetstream'],
    help: 'Enable streams (JetStream API)',
    def: (d) => (d.jetstream ? 'on' : 'off'),
    run: (s, v) => s.sets.push((o) => (o.jetstream = v === true)),
  },
  {
    section: 'Streams',
    names: ['--no-jetstream'],
    help: 'Disable streams: core pub/sub and request-reply only',
    run: (s, v) => s.sets.push((o) => (o.jetstream = v !== true)),
  },
  {
    section: 'Streams',
    names: ['--sync'],
    arg: 'always|never|DURATION',
    help: 'When a stream write is acknowledged: after fdatasync (always), after a sync every DURATION, or when written (never)',
    def: (d) => formatSync(d.sync),
    run: setter(SYNC_ALLOWED.replace(/"/g, ''), parseSyncText, (o, v) => (o.sync = v)),
  },
  {
    section: 'Streams',
    names: ['--max-file-store'],
    arg: 'SIZE',
    help: 'Total bytes all file-backed streams may hold; -1 = unlimited',
    def: (d) => formatSize(d.maxFileStore),
    run: setter(`a size (${SIZE_HINT}) or -1 for unlimited`, sizeIn(-1), (o, v) => (o.maxFileStore = v)),
  },
  {
    section: 'Streams',
    names: ['--max-mem-store'],
    arg: 'SIZE',
    help: 'Total bytes all memory-backed streams may hold; -1 = unlimited',
    def: (d) => formatSize(d.maxMemStore),
    run: setter(`a size (${SIZE_HINT}) or -1 for unlimited`, sizeIn(-1), (o, v) => (o.maxMemStore = v)),
  },
  {
    section: 'Limits',
    names: ['--max-payload'],
    arg: 'SIZE',
    help: 'Largest message (headers + payload) a client may publish',
    def: (d) => formatSize(d.maxPayload),
    run: setter(`a size from 1 byte to ${MAX_INT32} (${SIZE_HINT})`, sizeIn(1, MAX_INT32), (o, v) => (o.maxPayload = v)),
  },
  {
    section: 'Limits',
    names: ['--max-outbound'],
    arg: 'SIZE',
    help: 'Bytes queued to all connections together before publishers are held; -1 = an eighth of RAM',
    def: (d) => formatSize(d.maxOutbound),
    run: setter(`a size (${SIZE_HINT}) or -1 for the default`, sizeIn(-1), (o, v) => (o.maxOutbound = v)),
  },
  {
    section: 'Limits',
    names: ['--max-pending'],
    arg: 'SIZE',
    help: 'Bytes queued to one connection before it is closed as a slow consumer',
    def: (d) => formatSize(d.maxPending),
    run: setter(`a size of 1 byte or more (${SIZE_HINT})`, sizeIn(1), (o, v) => (o.maxPending = v)),
  },
  {
    section: 'Limits',
    names: ['--max-connections'],
    arg: 'N',
    help: 'Client connections accepted at once; 0 = unlimited',
    def: (d) => String(d.maxConnections),
    run: setter(
      'a whole number, 0 for unlimited',
      intIn(0, Number.MAX_SAFE_INTEGER),
      (o, v) => (o.maxConnections = v === 0 ? UNLIMITED_CONNECTIONS : v),
    ),
  },
  {
    section: 'Limits',
    names: ['--max-subs'],
    arg: 'N',
    help: 'Subscriptions one connection may hold; 0 = unlimited',
    def: (d) => String(d.maxSubs),
    run: setter('a whole number, 0 for unlimited', intIn(0, Number.MAX_SAFE_INTEGER), (o, v) => (o.maxSubs = v)),
  },
  {
    section: 'Limits',
    names: ['--max-control-line'],
    arg: 'SIZE',
    help: 'Longest NATS protocol line (PUB/SUB/CONNECT…)',
    def: (d) => formatSize(d.maxControlLine),
    run: setter(`a size from 1 byte to ${MAX_INT32}`, sizeIn(1, MAX_INT32), (o, v) => (o.maxControlLine = v)),
  },
  {
    section: 'Limits',
    names: ['--ping-interval'],
    arg: 'DURATION',
    help: 'How often the server PINGs an idle client',
    def: (d) => formatDuration(d.pingIntervalMs),
    run: setter(DURATION_ALLOWED, positiveDuration, (o, v) => (o.pingIntervalMs = v)),
  },
  {
    section: 'Limits',
    names: ['--max-pings-out'],
    arg: 'N',
    help: "Unanswered PINGs before the client is closed as 'Stale Connection'",
    def: (d) => String(d.maxPingsOut),
    run: setter('a whole number, 0 or more', intIn(0, Number.MAX_SAFE_INTEGER), (o, v) => (o.maxPingsOut = v)),
  },
  {
    section: 'Limits',
    names: ['--auth-timeout'],
    arg: 'DURATION',
    help: 'Time a new connection has to send CONNECT',
    def: (d) => formatDuration(d.authTimeoutMs),
    run: (s, v, name) => {
      s.authTimeoutSet = true;
      setAuthTimeout(s, v, name);
    },
  },
  {
    section: 'Limits',
    names: ['--write-deadline'],
    arg: 'DURATION',
    help: 'How long a write may stall before the client is closed as a slow consumer',
    def: (d) => formatDuration(d.writeDeadlineMs),
    run: setter(DURATION_ALLOWED, positiveDuration, (o, v) => (o.writeDeadlineMs = v)),
  },
  {
    section: 'Logging',
    names: ['--log-level'],
    arg: 'LEVEL',
    help: `One of ${LOG_LEVELS.join(', ')}`,
    def: (d) => d.logLevel,
    run: setter(
      `one of ${LOG_LEVELS.join(', ')}`,
      (t) => (isLogLevel(t.toLowerCase()) ? (t.toLowerCase() as ServerOptions['logLevel']) : undefined),
      (o, v) => (o.logLevel = v),
    ),
  },
  {
    section: 'Logging',
    names: ['--log-format'],
    arg: 'FORMAT',
    help: `${LOG_FORMATS.join(' or ')}: short human lines, or one JSON object a line`,
    def: (d) => d.logFormat,
    run: setter(
      `one of ${LOG_FORMATS.join(', ')}`,
      (t) => (isLogFormat(t.toLowerCase()) ? (t.toLowerCase() as ServerOptions['logFormat']) : undefined),
      (o, v) => (o.logFormat = v),
    ),
  },
  { section: 'Other', names: ['--help', '-h'], help: 'Show this text', run: (s, v) => (s.help = v === true) },
  { section: 'Other', names: ['--version', '-v'], help: 'Print the version', run: (s, v) => (s.version = v === true) },
];
/** Go's strconv.ParseBool, which `-flag=value` uses for switches. */
function goBool(t: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(t)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(t)) return false;
  return undefined;
}

/** Finds the flag spelled `name` in `flags`, with nats-server's `-x` = `--x` rule when `natsStyle`. */
function lookup(flags: readonly Flag[], name: string, natsStyle: boolean): Flag | undefined {
  const bare = name.replace(/^--?/, '');
  const heraldName = name.startsWith('--') ? `--${bare.replace(/_/g, '-')}` : name;
  return flags.find((f) => f.names.some((n) => (natsStyle ? n.replace(/^--?/, '') === bare : n === heraldName)));
}

/**
 * Reads flags from `args` into a State. Positional arguments are returned in order (nats-server
 * style stops at the first one, like Go's flag package).
 */
function readFlags(
  args: readonly string[],
  flags: readonly Flag[],
  invokedAs: Invocation,
): { state: State; positional: string[] } {
  const natsStyle = invokedAs === 'nats-server';
  const state: State = {
    sets: [],
    help: false,
    version: false,
    debug: false,
    trace: false,
    warnings: [],
    tls: { seen: false, off: false },
  };
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (natsStyle) {
        positional.push(...args.slice(i));
        break;
      }
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    const flag = lookup(flags, name, natsStyle);
    if (flag === undefined) throw unknownFlag(name, flags, invokedAs);
    if (flag.arg === undefined) {
      let on = true;
      if (inline !== undefined) {
        const b = natsStyle ? goBool(inline) : (goBool(inline) ?? (OFF_WORDS.includes(inline.toLowerCase()) ? false : undefined));
        if (b === undefined) throw badValue(name, 'true or false', inline);
        on = b;
      }
      flag.run(state, on, name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      // Go's flag package takes the next word whatever it is; herald's own flags refuse another
      // --flag there, which is always a forgotten value.
      const next = args[i + 1];
      if (next === undefined || (!natsStyle && next.startsWith('--'))) {
        throw new ConfigError(`${name} needs a value (${flag.arg})`, { key: name });
      }
      value = next;
      i++;
    }
    flag.run(state, value, name);
  }
  return { state, positional };
}

function unknownFlag(name: string, flags: readonly Flag[], invokedAs: Invocation): ConfigError {
  const all = flags.flatMap((f) => f.names);
  const hint = closest(name, all);
  return new ConfigError(
    `unknown flag '${name}'${hint === undefined ? '' : ` (did you mean '${hint}'?)`}; run '${invokedAs} --help' to see every flag`,
    { key: name },
  );
}

/** Applies defaults, then the config file, then the flags; validates the result. */
function buildOptions(state: State, invokedAs: Invocation): { options: ServerOptions; warnings: string[] } {
  let options = defaultOptions(invokedAs);
  const warnings = [...state.warnings];
  if (state.config !== undefined) {
    if (state.config.trim() === '') throw new ConfigError(`the config file name is empty`, { key: '--config' });
    const r = loadConfigFile(state.config, options);
    options = r.options;
    warnings.push(...r.warnings);
    if (r.authTimeoutSet === true) state.authTimeoutSet = true;
  }
  const authTimeoutSet = state.authTimeoutSet === true;
  for (const set of state.sets) set(options);
  applyTlsFlags(state.tls, options, authTimeoutSet);
  if (state.trace) options.logLevel = 'trace';
  else if (state.debug && options.logLevel !== 'trace') options.logLevel = 'debug';
  warnings.push(...validateOptions(options));
  return { options, warnings };
}

const HERALD_COMMANDS = ['serve', 'bench', 'help', 'version'] as const;

/**
 * Turns argv (without the node executable and script: `process.argv.slice(2)`) into a command.
 * Guarantees: for `serve`, `options` is complete and has passed `validateOptions`; every problem
 * is a `ConfigError` naming the flag or key, the value and what is allowed. `herald` with no
 * command (or starting with a flag) means `serve`.
 */
export function parseCommandLine(argv: string[], invokedAs: Invocation): ParsedCommand {
  if (invokedAs === 'nats-server') return parseNatsServer(argv);
  let command: ParsedCommand['command'] = 'serve';
  let args = argv;
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-')) {
    if (!(HERALD_COMMANDS as readonly string[]).includes(first)) {
      const hint = closest(first, HERALD_COMMANDS);
      throw new ConfigError(
        `unknown command '${first}'${hint === undefined ? '' : ` (did you mean '${hint}'?)`}; commands are ${HERALD_COMMANDS.join(', ')}; run 'herald --help'`,
      );
    }
    command = first as ParsedCommand['command'];
    args = argv.slice(1);
  }
  if (command === 'bench') return { command, options: defaultOptions('herald'), warnings: [], rest: args };
  if (command === 'help' || command === 'version') return { command, options: defaultOptions('herald'), warnings: [], rest: [] };
  const { state, positional } = readFlags(args, HERALD_FLAGS, 'herald');
  if (state.help) return { command: 'help', options: defaultOptions('herald'), warnings: [], rest: [] };
  if (state.version) return { command: 'version', options: defaultOptions('herald'), warnings: [], rest: [] };
  if (positional.length > 0) {
    throw new ConfigError(`unexpected argument '${positional[0]}': 'herald serve' takes only flags; run 'herald --help'`);
  }
  return { command: 'serve', ...buildOptions(state, 'herald'), rest: [] };
}

function parseNatsServer(argv: string[]): ParsedCommand {
  const { state, positional } = readFlags(argv, NATS_FLAGS, 'nats-server');
  const defaults = (): ServerOptions => defaultOptions('nats-server');
  if (state.version) return { command: 'version', options: defaults(), warnings: [], rest: [] };
  if (state.help) return { command: 'help', options: defaults(), warnings: [], rest: [] };
  // nats-server accepts the words `version` and `help` after its flags, nothing else.
  const word = positional[0];
  if (word === 'version') return { command: 'version', options: defaults(), warnings: [], rest: [] };
  if (word === 'help') return { command: 'help', options: defaults(), warnings: [], rest: [] };
  if (word !== undefined) throw new ConfigError(`unrecognized command: '${word}'; run 'nats-server --help'`);
  return { command: 'serve', ...buildOptions(state, 'nats-server'), rest: [] };
}

/**
 * `herald` when the script runs under its own name, `nats-server` when it was started through a
 * file or link named `nats-server` (what test harnesses spawn).
 */
export function invocationOf(scriptPath: string | undefined): Invocation {
  if (scriptPath === undefined) return 'herald';
  const name = basename(scriptPath).replace(/\.(c|m)?js$/, '');
  return name === 'nats-server' ? 'nats-server' : 'herald';
}

/**
 * Every flag spelling accepted for `invokedAs`, in help order (for docs checks and completion).
 * For nats-server each may also be written with one or two dashes.
 */
export function flagNames(invokedAs: Invocation): string[] {
  return (invokedAs === 'herald' ? HERALD_FLAGS : NATS_FLAGS).flatMap((f) => f.names);
}

// ---- help ----

/** Renders flags grouped by section: `sections` pairs a section key with the heading printed for it. */
function renderFlags(flags: readonly Flag[], d: ServerOptions, sections: readonly (readonly [string, string])[]): string {
  const left = (f: Flag): string => `${f.names.join(', ')}${f.arg === undefined ? '' : ` ${f.arg}`}`;
  const width = Math.max(...flags.map((f) => left(f).length)) + 2;
  return sections
    .map(([key, title]) => {
      const lines = flags
        .filter((f) => f.section === key)
        .map((f) => `  ${left(f).padEnd(width)}${f.help}${f.def === undefined ? '' : ` (default: ${f.def(d)})`}`);
      return `${title}:\n${lines.join('\n')}`;
    })
    .join('\n\n');
}

/**
 * The `--help` text for `invokedAs`: every flag with its meaning and default, the size and
 * duration syntax, and (for nats-server) which nats-server flags herald refuses and why.
 */
export function usage(invokedAs: Invocation): string {
  const d = defaultOptions(invokedAs);
  const syntax = [
    'Values:',
    '  SIZE      bytes, or with a suffix K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB (powers of 1024), e.g. 8MB',
    '  DURATION  Go style: 500ms, 30s, 2m, 1h30m',
  ].join('\n');
  if (invokedAs === 'herald') {
    return [
      'Usage: herald [command] [flags]',
      '',
      'herald is a message broker that speaks the NATS client protocol with JetStream streams and the',
      'Redis protocol (Pub/Sub; on 127.0.0.1:6379 by default), and serves nats-server-style HTTP monitoring.',
      '',
      'Commands:',
      '  serve          Run the broker (the default when no command is given)',
      '  bench [args]   Run the benchmarks (herald bench --help)',
      '  reload --pid N        Re-read the config of a running server (SIGHUP)',
      '  lame-duck --pid N     Drain a running server and stop it (SIGUSR2)',
      '  term|quit|stop --pid N  Shut it down gracefully (SIGTERM/SIGINT) or kill it',
      '  help           Show this text',
      '  version        Print the version',
      '',
      'A flag overrides the same setting from --config. Config keys: docs/configuration.md.',
      '',
      renderFlags(
        HERALD_FLAGS,
        d,
        ['Server', 'Streams', 'Limits', 'Logging', 'Other'].map((k) => [k, k] as const),
      ),
      '',
      syntax,
      '',
    ].join('\n');
  }
  return [
    'Usage: nats-server [options]',
    '',
    'This is herald standing in for nats-server. Flags may be written -flag or --flag, with',
    '-flag=value or -flag value. Flags override the config file (-c). Unlike nats-server, herald',
    'listens on 127.0.0.1 unless -a/host says otherwise, and keeps JetStream data in a new temp',
    'directory when no store_dir is given.',
    '',
    renderFlags(NATS_FLAGS, d, [
      ['Server', 'Server Options'],
      ['Logging', 'Logging Options'],
      ['JetStream', 'JetStream Options'],
      ['Refused', 'Not supported (herald exits with an error naming the flag)'],
      ['Other', 'Common Options'],
    ]),
    '',
    syntax,
    '',
  ].join('\n');
}
