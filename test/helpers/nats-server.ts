/**
 * Starts the real `nats-server` binary for differential tests (DESIGN.md "Compatibility is tested,
 * not assumed"): on a random free loopback port, optionally with JetStream in a temporary store
 * directory. The binary must be nats-server, not herald's drop-in shim: its `--version` and its
 * INFO greeting are checked (bench/servers.ts findPeer, natsInfoProblem) and a mismatch fails the
 * test loudly instead of comparing herald with herald.
 */
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { findPeer, natsInfoProblem, versionNumber } from '../../src/bench/servers.js';
import { startReference } from './reference.js';

export { freePort } from './reference.js';

/** A running nats-server. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The INFO the server greeted with (checked to be nats-server's). */
  readonly info: Record<string, unknown>;
  /** Kills the process by pid (SIGTERM, then SIGKILL) and removes its temporary directories. */
  stop(): Promise<void>;
}

/** Options for `startNatsServer`. */
export interface NatsServerOptions {
  /** Enable JetStream (`-js`) with its store in a fresh temporary directory (`-sd`). */
  jetstream?: boolean;
  /** Extra command-line arguments. */
  args?: string[];
}

/**
 * The nats-server binary to run: $NATS_SERVER_BIN if set, else the first real nats-server in
 * /usr/sbin, /usr/bin, … and then $PATH (herald's shim is skipped). Throws, naming what it
 * rejected, when the only candidates are not nats-server; null when there is none.
 */
export function natsServerBin(): string | null {
  return findPeer('nats-server')?.path ?? null;
}

/** True when a real nats-server can be found (differential tests skip with a reason otherwise); throws when only impostors can. */
export function natsServerAvailable(): boolean {
  return natsServerBin() !== null;
}

/** Connects once and resolves with the INFO line's JSON. */
function readInfo(port: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    s.setEncoding('utf8');
    s.once('error', reject);
    s.once('close', () => reject(new Error('closed before INFO')));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return;
      s.destroy();
      try {
        resolve(JSON.parse(buf.slice(0, nl).replace(/^INFO\s+/, '')) as Record<string, unknown>);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

/**
 * Starts nats-server on 127.0.0.1 and a random free port, and resolves once it greets with a
 * nats-server INFO. Rejects (after killing it) if it exits, does not come up in time, or is not
 * nats-server.
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const peer = findPeer('nats-server');
  if (peer === null) throw new Error('nats-server is not installed (set NATS_SERVER_BIN or install the Debian package)');
  const dirs: string[] = [];
  const extra: string[] = [];
  if (opts.jetstream === true) {
    const sd = mkdtempSync(join(os.tmpdir(), 'herald-nats-js-'));
    dirs.push(sd);
    extra.push('-js', '-sd', sd);
  }
  if (opts.args !== undefined) extra.push(...opts.args);
  const expect = versionNumber('nats-server', peer.version);
  const h = await startReference({
    name: 'nats-server',
    bin: peer.path,
    args: (port) => ['-a', '127.0.0.1', '-p', String(port), ...extra],
    dirs,
    probe: readInfo,
    check: (info) => natsInfoProblem(info, expect),
  });
  return { url: `nats://127.0.0.1:${h.port}`, port: h.port, pid: h.pid, info: h.answer, stop: h.stop };
}
