/**
 * nats-server's command-line flags (opts.go ConfigureOptions), as the `nats-server` drop-in reads
 * them: the same spellings, defaults and port rules, with cluster, file-logging and other flags
 * herald cannot honour either ignored with a warning or refused with the reason.
 */
import {
  text,
  setter,
  nonEmpty,
  natsPort,
  natsHttpPort,
  serverName,
  AUTH_FLAGS,
  ignored,
  refused,
  NO_CLUSTER,
  STDERR_ONLY,
  type Flag,
} from './flag-kit.js';
import { MAX_PORT } from '../config/values.js';
import { TLS_FLAGS } from './tls-flags.js';
import { NATS_DEFAULT_PORT } from '../config/load.js';

export const NATS_FLAGS: readonly Flag[] = [
  ...AUTH_FLAGS,
  ...TLS_FLAGS,
  {
    section: 'Server',
    names: ['-ms', '--https_port'],
    arg: 'PORT',
    help: 'Use port for HTTPS monitoring (needs TLS); -1 = random, 0 = off',
    run: setter(`a port from 1 to ${MAX_PORT}, -1 for a random port or 0 for off`, natsHttpPort, (o, v) => {
      o.httpsPort = v;
      if (v !== null) o.httpPort = null;
    }),
  },
  {
    section: 'Server',
    names: ['-a', '--addr', '--net'],
    arg: 'HOST',
    help: 'Bind to host address',
    def: (d) => `${d.host}; nats-server: 0.0.0.0`,
    run: setter('a host name or IP address', nonEmpty, (o, v) => (o.host = v)),
  },
  {
    section: 'Server',
    names: ['-p', '--port'],
    arg: 'PORT',
    help: 'Use port for clients; -1 = random',
    def: (d) => String(d.port),
    run: setter(
      `a port from 1 to ${MAX_PORT}, -1 for a random port or 0 for ${NATS_DEFAULT_PORT}`,
      natsPort,
      (o, v) => (o.port = v),
    ),
  },
  {
    section: 'Server',
    names: ['-n', '--name', '--server_name'],
    arg: 'NAME',
    help: 'Server name',
    def: () => 'the server id',
    run: setter('a name without spaces', serverName, (o, v) => (o.serverName = v)),
  },
  {
    section: 'Server',
    names: ['-m', '--http_port'],
    arg: 'PORT',
    help: 'Use port for HTTP monitoring; -1 = random, 0 = off',
    def: () => 'off',
    run: setter(`a port from 1 to ${MAX_PORT}, -1 for a random port or 0 for off`, natsHttpPort, (o, v) => (o.httpPort = v)),
  },
  {
    section: 'Server',
    names: ['-c', '--config'],
    arg: 'FILE',
    help: 'Configuration file',
    run: (s, v) => (s.config = text(v)),
  },
  {
    section: 'Server',
    names: ['--ports_file_dir'],
    arg: 'DIR',
    help: 'Create a ports file <DIR>/nats-server_<pid>.ports once listening',
    run: setter('a directory path', nonEmpty, (o, v) => (o.portsFileDir = v)),
  },
  {
    section: 'Server',
    names: ['--client_advertise'],
    arg: 'URL',
    help: 'Accepted, ignored (no cluster)',
    run: ignored(NO_CLUSTER),
  },
  {
    section: 'Server',
    names: ['--profile'],
    arg: 'PORT',
    help: 'Accepted, ignored (no profiling port)',
    run: ignored('herald has no profiling port'),
  },
  {
    section: 'Logging',
    names: ['-D', '--debug'],
    help: 'Debug logging (log level debug)',
    run: (s, v) => (s.debug = v === true),
  },
  {
    section: 'Logging',
    names: ['-V', '--trace'],
    help: 'Trace logging (log level trace)',
    run: (s, v) => (s.trace = v === true),
  },
  { section: 'Logging', names: ['-VV'], help: 'Same as -V', run: (s, v) => (s.trace = v === true) },
  {
    section: 'Logging',
    names: ['-DV'],
    help: 'Debug and trace (log level trace)',
    run: (s, v) => (s.debug = s.trace = v === true),
  },
  { section: 'Logging', names: ['-DVV'], help: 'Same as -DV', run: (s, v) => (s.debug = s.trace = v === true) },
  { section: 'Logging', names: ['-T', '--logtime'], help: 'Accepted; herald always timestamps log lines', run: () => undefined },
  { section: 'Logging', names: ['--logtime_utc'], help: 'Accepted; log times are UTC', run: () => undefined },
  {
    section: 'Logging',
    names: ['-l', '--log'],
    arg: 'FILE',
    help: `Accepted, ignored: ${STDERR_ONLY}`,
    run: ignored(`${STDERR_ONLY}; redirect it (2>FILE)`),
  },
  { section: 'Logging', names: ['-s', '--syslog'], help: `Accepted, ignored: ${STDERR_ONLY}`, run: ignored(STDERR_ONLY) },
  {
    section: 'Logging',
    names: ['-r', '--remote_syslog'],
    arg: 'ADDR',
    help: `Accepted, ignored: ${STDERR_ONLY}`,
    run: ignored(STDERR_ONLY),
  },
  {
    section: 'Logging',
    names: ['--log_size_limit'],
    arg: 'SIZE',
    help: `Accepted, ignored: ${STDERR_ONLY}`,
    run: ignored(STDERR_ONLY),
  },
  {
    section: 'Logging',
    names: ['--max_traced_msg_len'],
    arg: 'LEN',
    help: 'Accepted, ignored',
    run: ignored('herald does not trace message bodies'),
  },
  {
    section: 'JetStream',
    names: ['-js', '--jetstream'],
    help: 'Enable JetStream',
    def: () => 'off',
    run: (s, v) => s.sets.push((o) => (o.jetstream = v === true)),
  },
  {
    section: 'JetStream',
    names: ['-sd', '--store_dir'],
    arg: 'DIR',
    help: 'Storage directory',
    def: () => 'a new directory under the system temp dir',
    run: setter('a directory path', nonEmpty, (o, v) => (o.dataDir = v)),
  },
  {
    section: 'Refused',
    names: ['-t'],
    help: 'Test configuration and exit',
    run: refused('run herald with -c FILE: it reports config errors and exits before listening'),
  },
  {
    section: 'Other',
    names: ['-sl', '--signal'],
    arg: 'CMD=PID',
    help: 'Signal a running server: ldm, reload, stop, quit or term (src/cli/signals.ts handles it first)',
    run: refused('write it as --signal <command>=<pid>'),
  },
  {
    section: 'Refused',
    names: ['-P', '--pid'],
    arg: 'FILE',
    help: 'PID file',
    run: refused('herald writes no PID file; use --ports_file_dir or your supervisor'),
  },
  { section: 'Refused', names: ['--help_tls'], help: 'TLS help', run: refused('see docs/security.md for the tls block') },
  { section: 'Refused', names: ['--routes'], arg: 'URLS', help: 'Cluster routes', run: refused(NO_CLUSTER) },
  {
    section: 'Refused',
    names: ['--cluster', '--cluster_listen'],
    arg: 'URL',
    help: 'Cluster listen URL',
    run: refused(NO_CLUSTER),
  },
  { section: 'Refused', names: ['--cluster_name'], arg: 'NAME', help: 'Cluster name', run: refused(NO_CLUSTER) },
  { section: 'Refused', names: ['--cluster_advertise'], arg: 'URL', help: 'Cluster advertise URL', run: refused(NO_CLUSTER) },
  { section: 'Refused', names: ['--no_advertise'], help: 'Cluster no-advertise', run: refused(NO_CLUSTER) },
  { section: 'Refused', names: ['--connect_retries'], arg: 'N', help: 'Cluster connect retries', run: refused(NO_CLUSTER) },
  { section: 'Other', names: ['-h', '--help'], help: 'Show this message', run: (s, v) => (s.help = v === true) },
  { section: 'Other', names: ['-v', '--version'], help: 'Show version', run: (s, v) => (s.version = v === true) },
];

// ---- parsing ----
