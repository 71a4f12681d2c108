/**
 * Process signals for a running server, and the commands that send them. nats-server signal.go:
 * SIGHUP reloads the config, SIGUSR2 enters lame-duck mode, SIGINT and SIGTERM shut down (SIGTERM
 * is ignored while lame-duck mode runs, which ends in a shutdown anyway). herald adds: a second
 * SIGINT/SIGTERM during a shutdown exits at once.
 *
 * Sending: `herald reload|lame-duck|stop|quit|term --pid N` and nats-server's
 * `--signal <command>[=<pid>]` (commands ldm, reload, stop, quit, term; `reopen` has nothing to
 * reopen since herald logs to stderr).
 */
import type { Server } from '../server.js';
import type { ServerOptions } from '../config/options.js';
import { ConfigError } from '../config/errors.js';

/** Longest a graceful shutdown may take before the process exits anyway (stores synced first). */
const SHUTDOWN_GRACE_MS = 10_000;

/** nats-server signal.go CommandToSignal. */
const COMMAND_SIGNALS: Readonly<Record<string, NodeJS.Signals>> = {
  stop: 'SIGKILL',
  quit: 'SIGINT',
  term: 'SIGTERM',
  reload: 'SIGHUP',
  ldm: 'SIGUSR2',
  'lame-duck': 'SIGUSR2',
};

/** herald's own words for the signal commands. */
export const HERALD_SIGNAL_COMMANDS: readonly string[] = ['reload', 'lame-duck', 'stop', 'quit', 'term'];

/**
 * Handles the server's signals until it has stopped; resolves with the exit status. `reloadOptions`
 * re-reads the command line and config file (throws ConfigError on a bad file).
 */
export function runSignals(server: Server, reloadOptions: () => { options: ServerOptions; warnings: string[] }): Promise<number> {
  const log = server.log;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const done = (): void => {
      for (const [sig, fn] of handlers) process.off(sig, fn);
      resolve(0);
    };
    const stop = (signal: string): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal during shutdown: exiting now without waiting');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'Trapped signal: shutting down gracefully (a second signal exits at once)');
      setTimeout(() => {
        log.error({ after_ms: SHUTDOWN_GRACE_MS }, 'shutdown did not finish in time; exiting');
        process.exit(1);
      }, SHUTDOWN_GRACE_MS).unref();
      server.close().then(done, done);
    };
    const handlers: [NodeJS.Signals, () => void][] = [
      ['SIGINT', () => stop('SIGINT')],
      [
        'SIGTERM',
        () => {
          if (server.inLameDuckMode && !stopping) {
            log.info('Trapped "terminated" signal during lame duck mode: ignored (the server stops when lame duck mode ends; SIGINT stops it now)');
            return;
          }
          stop('SIGTERM');
        },
      ],
      [
        'SIGUSR2',
        () => {
          if (stopping || server.inLameDuckMode) return;
          server.enterLameDuckMode().then(done, done);
        },
      ],
      ['SIGHUP', () => void reload(server, reloadOptions)],
    ];
    for (const [sig, fn] of handlers) process.on(sig, fn);
  });
}

async function reload(server: Server, reloadOptions: () => { options: ServerOptions; warnings: string[] }): Promise<void> {
  const log = server.log;
  log.info('Trapped "hangup" signal: reloading the configuration');
  try {
    const { options, warnings } = reloadOptions();
    for (const w of warnings) log.warn(w);
    await server.reload(options);
  } catch (err) {
    const msg = err instanceof ConfigError ? err.message : String((err as Error)?.stack ?? err);
    log.error(`Failed to reload server configuration: ${msg}; the running configuration is kept`);
  }
}

/** Sends `command`'s signal to `pid`; returns the exit status and writes what happened. */
function send(command: string, pidText: string | undefined, invokedAs: string): number {
  const sig = COMMAND_SIGNALS[command];
  if (sig === undefined) {
    process.stderr.write(`${invokedAs}: unknown signal "${command}" (commands: ldm, reload, stop, quit, term)\n`);
    return 2;
  }
  if (pidText === undefined || pidText === '') {
    process.stderr.write(`${invokedAs}: say which server: give its pid (${invokedAs === 'herald' ? `herald ${command} --pid N` : `--signal ${command}=N`})\n`);
    return 2;
  }
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) {
    process.stderr.write(`${invokedAs}: invalid pid: ${pidText}\n`);
    return 2;
  }
  try {
    process.kill(pid, sig);
  } catch (err) {
    process.stderr.write(`${invokedAs}: signal "${command}" ${pid}: ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}

/**
 * When argv asks to signal a running server, does it and returns the exit status; otherwise
 * null. herald: `reload|lame-duck|stop|quit|term [--pid N | --pid=N | --signal reload=N]`;
 * nats-server: `-sl|--signal <command>[=<pid>]` anywhere among the flags.
 */
export function signalCommand(argv: readonly string[], invokedAs: 'herald' | 'nats-server'): number | null {
  if (invokedAs === 'herald' && argv[0] !== undefined && HERALD_SIGNAL_COMMANDS.includes(argv[0])) {
    const rest = argv.slice(1);
    let pid: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === '--pid') pid = rest[++i];
      else if (a.startsWith('--pid=')) pid = a.slice(6);
      else {
        process.stderr.write(`herald: ${argv[0]}: unexpected argument '${a}'; usage: herald ${argv[0]} --pid N\n`);
        return 2;
      }
    }
    return send(argv[0], pid, 'herald');
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--?(?:sl|signal)(?:=(.*))?$/.exec(a);
    if (m === null) continue;
    const value = m[1] ?? argv[i + 1];
    if (value === undefined) {
      process.stderr.write(`${invokedAs}: ${a} needs a value (<command>[=<pid>])\n`);
      return 2;
    }
    const eq = value.indexOf('=');
    return eq < 0 ? send(value, undefined, invokedAs) : send(value.slice(0, eq), value.slice(eq + 1), invokedAs);
  }
  return null;
}
