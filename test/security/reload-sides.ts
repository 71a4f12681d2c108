/**
 * The two servers of a reload differential test: herald (as the nats-server drop-in, in its own
 * process) and the real nats-server, each started with the same conf text; a test rewrites the
 * conf on both and sends both SIGHUP. With `jetstream`, each gets `jetstream { store_dir }` in a
 * temporary directory of its own, kept across rewrites.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer } from '../helpers/nats-server.js';
import { startHeraldChild } from '../helpers/herald-child.js';

/** One server under a reload test. */
export interface Side {
  readonly port: number;
  hup(): void;
  /** Replaces the conf file's text (listener keys and the JetStream store are kept). */
  rewrite(conf: string): void;
  stop(): Promise<void>;
}

function storeOf(dir: string | null): string {
  return dir === null ? '' : `jetstream { store_dir: ${JSON.stringify(dir)} }\n`;
}

/** herald in a child process with `conf`. */
export async function heraldSide(conf: string, opts: { jetstream?: boolean } = {}): Promise<Side> {
  const store = opts.jetstream === true ? mkdtempSync(join(tmpdir(), 'herald-reload-js-')) : null;
  const h = await startHeraldChild(storeOf(store) + conf);
  return {
    port: h.port,
    hup: () => process.kill(h.pid, 'SIGHUP'),
    rewrite: (text) =>
      writeFileSync(h.conf, `${storeOf(store)}${text}\nport: -1\nhost: 127.0.0.1\nports_file_dir: ${JSON.stringify(h.dir)}\n`),
    stop: async () => {
      await h.stop();
      if (store !== null) rmSync(store, { recursive: true, force: true });
    },
  };
}

/** The real nats-server with `conf`. */
export async function natsSide(conf: string, opts: { jetstream?: boolean } = {}): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-reload-ref-'));
  const store = opts.jetstream === true ? join(dir, 'js') : null;
  const file = join(dir, 'server.conf');
  writeFileSync(file, storeOf(store) + conf);
  const n = await startNatsServer({ args: ['-c', file] });
  return {
    port: n.port,
    hup: () => process.kill(n.pid, 'SIGHUP'),
    rewrite: (text) => writeFileSync(file, storeOf(store) + text),
    stop: async () => {
      await n.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
