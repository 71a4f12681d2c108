import { basename } from 'node:path';
import { parseCommandLine, usage } from './args.js';
import { ConfigError } from '../config/errors.js';
import { Server } from '../server.js';
import { runSignals, signalCommand } from './signals.js';
import { isFreshDataDir } from '../config/defaults.js';
import { createLogger } from '../core/log.js';
import { HERALD_VERSION } from '../version.js';
import { ADVERTISED_VERSION } from '../nats/server.js';

/**
 * The `herald` program. Invoked as `nats-server` (through the shim in bin/), it accepts the
 * nats-server command line instead. Returns the process exit status.
 */
export async function main(argv: string[], argv0: string): Promise<number> {
  const invokedAs = basename(argv0).startsWith('nats-server') ? 'nats-server' : 'herald';
  const signalled = signalCommand(argv, invokedAs);
  if (signalled !== null) return signalled;
  let cmd;
  try {
    cmd = parseCommandLine(argv, invokedAs);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${invokedAs}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  switch (cmd.command) {
    case 'help':
      process.stdout.write(usage(invokedAs));
      return 0;
    case 'version':
      process.stdout.write(
        invokedAs === 'nats-server'
          ? `nats-server: v${ADVERTISED_VERSION} (herald ${HERALD_VERSION})\n`
          : `herald ${HERALD_VERSION} (speaks NATS ${ADVERTISED_VERSION})\n`,
      );
      return 0;
    case 'bench': {
      const { runBench } = await import('./bench/index.js');
      return runBench(cmd.rest);
    }
    case 'serve':
      break;
  }
  const o = cmd.options;
  const log = createLogger({ level: o.logLevel, format: o.logFormat });
  for (const w of cmd.warnings) log.warn(w);
  // SIGHUP's default action ends the process: one arriving before runSignals listens (a test
  // harness sends it as soon as the ports file appears) is held and applied once it does.
  let earlyReload = false;
  const holdReload = (): void => void (earlyReload = true);
  process.on('SIGHUP', holdReload);
  let server: Server;
  try {
    server = await Server.start({ ...o, logger: log });
  } catch (err) {
    process.off('SIGHUP', holdReload);
    if (err instanceof ConfigError) {
      process.stderr.write(`${invokedAs}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`${invokedAs}: ${startErrorMessage(err, o.port, o.httpPort, o.redisPort)}\n`);
    return 1;
  }
  // SIGHUP re-reads the same command line and config file: flags still win over the file.
  const running = runSignals(server, () => {
    const next = parseCommandLine(argv, invokedAs);
    // Without a store_dir, each read of the defaults draws a new temporary directory: keep ours.
    if (isFreshDataDir(next.options.dataDir) && isFreshDataDir(server.options.dataDir)) next.options.dataDir = server.options.dataDir;
    return next;
  });
  process.off('SIGHUP', holdReload);
  if (earlyReload) process.emit('SIGHUP', 'SIGHUP');
  return running;
}

/** Turns a start-up failure into a sentence that says what to change. */
function startErrorMessage(err: unknown, port: number, httpPort: number | null, redisPort: number | null): string {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.code === 'EADDRINUSE') {
    const p = e.port ?? port;
    const flag = p === httpPort ? '--http-port' : p === redisPort ? '--redis-port' : '--port';
    return `port ${p} is already in use (${e.address ?? 'address'}:${p}); another server is running there. Stop it, or choose another port with ${flag} (0 picks a free one).`;
  }
  if (e?.code === 'EACCES') {
    return `permission denied binding port ${e.port ?? port}; ports below 1024 need root. Choose another with --port.`;
  }
  if (e?.code === 'EADDRNOTAVAIL') {
    return `cannot listen on ${e.address}: no such address on this machine. Check --host.`;
  }
  return e instanceof Error ? e.message : String(err);
}
