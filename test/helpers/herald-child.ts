/**
 * herald in its own process, started as the nats-server drop-in (`bin/shim/nats-server -c conf`),
 * so a test can send it real signals (SIGHUP, SIGUSR2, SIGTERM) and watch it exit. The conf file
 * gets `port: -1` and a ports_file_dir appended unless it sets them; the URL comes from the ports
 * file. Everything the child logs is kept (`stderr()`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SHIM = resolve(import.meta.dirname, '../../../bin/shim/nats-server');
/** How long a child may take to write its ports file on a loaded machine. */
const START_MS = 15_000;

/** A running child herald. */
export interface HeraldChild {
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The conf file it was started with (rewrite it, then send SIGHUP). */
  readonly conf: string;
  readonly child: ChildProcess;
  /** Everything logged so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Waits until the log matches `re`; throws after `ms` naming `what`. */
  waitLog(re: RegExp, ms: number, what: string): Promise<void>;
  /** Kills it (SIGKILL) if still running and removes its directory. */
  stop(): Promise<void>;
}

/** Starts a child herald with `conf` (nats conf text) in a fresh temporary directory. */
export async function startHeraldChild(conf: string, args: string[] = []): Promise<HeraldChild> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-child-'));
  const file = join(dir, 'server.conf');
  const extra = [
    /^\s*port\s*[:=]/m.test(conf) ? '' : 'port: -1',
    /^\s*host\s*[:=]/m.test(conf) ? '' : 'host: 127.0.0.1',
    `ports_file_dir: ${JSON.stringify(dir)}`,
  ];
  writeFileSync(file, `${conf}\n${extra.join('\n')}\n`);
  const child = spawn(process.execPath, [SHIM, '-c', file, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (log += d));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, sig) => r(code ?? sig ?? -1)));
  let gone = false;
  void exited.then(() => (gone = true));
  const portsFile = join(dir, `nats-server_${child.pid}.ports`);
  const deadline = Date.now() + START_MS;
  while (!existsSync(portsFile)) {
    if (gone || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`child herald did not write its ports file within ${START_MS} ms; log:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const url = (JSON.parse(readFileSync(portsFile, 'utf8')) as { nats: string[] }).nats[0]!;
  const waitLog = async (re: RegExp, ms: number, what: string): Promise<void> => {
    const end = Date.now() + ms;
    while (!re.test(log)) {
      if (Date.now() > end) throw new Error(`child herald: ${what} not logged within ${ms} ms; log:\n${log}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    pid: child.pid!,
    url,
    port: Number(new URL(url).port),
    dir,
    conf: file,
    child,
    stderr: () => log,
    exited,
    waitLog,
    stop: async () => {
      if (!gone) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
