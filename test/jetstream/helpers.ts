/**
 * Shared helpers for the JetStream tests: an in-process harness (a Router, a JetStream on a
 * temporary store dir, and a request helper that talks to it through the router exactly as a
 * connection would), a herald server starter for client tests, and small utilities. Every wait
 * is bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/log.js';
import { retainMessage, type Client, type Message } from '../../src/core/message.js';
import { Router } from '../../src/core/router.js';
import { JetStream, type JetStreamOptions } from '../../src/nats/jetstream/jetstream.js';
import { JetStreamApiError } from '@nats-io/jetstream';
import { Server, type StartOptions } from '../../src/server.js';

/** How long a request may wait for its reply before the test fails. */
export const REPLY_TIMEOUT_MS = 5000;

/** A reply as the harness saw it. `noResponders` when nothing served the request. */
export interface Reply {
  noResponders: boolean;
  headers: string | null;
  payload: Buffer;
  /** The payload parsed as JSON, or null when it is not JSON. */
  json: any;
}

export function tmpDir(prefix = 'herald-js-'): string {
  return mkdtempSync(join(os.tmpdir(), prefix));
}

/** A JetStream on a private Router and temp dir, driven through the router. */
export class Harness {
  private n = 0;
  private readonly waiting = new Map<string, (m: Message) => void>();
  /** Messages seen on subjects subscribed with `watch`. */
  readonly seen: Message[] = [];

  private constructor(
    readonly router: Router,
    readonly js: JetStream,
    readonly dir: string,
    readonly opts: JetStreamOptions,
  ) {
    const client: Client = {
      id: 1,
      echo: true,
      deliver: (_s, msg) => {
        const cb = this.waiting.get(msg.subject);
        if (cb !== undefined) {
          this.waiting.delete(msg.subject);
          cb(retainMessage(msg));
        } else {
          this.seen.push(retainMessage(msg));
        }
      },
    };
    router.subscribe(client, '_T.>', null, 'harness');
  }

  static async start(opts: Partial<JetStreamOptions> = {}, dir?: string): Promise<Harness> {
    const router = new Router();
    const d = dir ?? tmpDir();
    const full: JetStreamOptions = {
      storeDir: d,
      maxFileStore: -1,
      maxMemStore: -1,
      sync: { kind: 'always' },
      logger: silentLogger(),
      ...opts,
    };
    const js = await JetStream.start(router, full);
    return new Harness(router, js, d, full);
  }

  /** Publishes and waits for the single reply (or no-responders). */
  request(subject: string, body: unknown = '', headers: Record<string, string> | null = null): Promise<Reply> {
    const reply = `_T.${++this.n}`;
    const payload = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const hdr = headers === null ? null : encodeHeaders(headers);
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(reply);
        reject(new Error(`no reply to ${subject} within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      this.waiting.set(reply, (m) => {
        clearTimeout(timer);
        resolve(toReply(m));
      });
      const n = this.router.publish({ subject, reply, headers: hdr, payload }, null);
      if (n === 0) {
        clearTimeout(timer);
        this.waiting.delete(reply);
        resolve({ noResponders: true, headers: null, payload: Buffer.alloc(0), json: null });
      }
    });
  }

  /** Publishes without a reply. Returns how many subscribers took it. */
  publish(subject: string, body: string | Buffer = '', headers: Record<string, string> | null = null): number {
    const payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
    return this.router.publish({ subject, reply: '', headers: headers === null ? null : encodeHeaders(headers), payload }, null);
  }

  /** JSON API call: returns the parsed response body. */
  async api(subject: string, body: unknown = ''): Promise<any> {
    const r = await this.request(subject, body);
    if (r.noResponders) throw new Error(`no responders for ${subject}`);
    return r.json;
  }

  /** Creates a stream and fails the test on an API error. */
  async create(cfg: Record<string, unknown>): Promise<any> {
    const r = await this.api(`$JS.API.STREAM.CREATE.${String(cfg.name)}`, cfg);
    if (r.error !== undefined) throw new Error(`create failed: ${JSON.stringify(r.error)}`);
    return r;
  }

  async info(name: string, body: unknown = ''): Promise<any> {
    return this.api(`$JS.API.STREAM.INFO.${name}`, body);
  }

  /** Restarts JetStream on the same store dir (a clean restart). */
  async restart(): Promise<Harness> {
    await this.js.close();
    return Harness.start(this.opts, this.dir);
  }

  async close(removeDir = true): Promise<void> {
    await this.js.close();
    if (removeDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

export function encodeHeaders(h: Record<string, string>): Buffer {
  let s = 'NATS/1.0\r\n';
  for (const [k, v] of Object.entries(h)) s += `${k}: ${v}\r\n`;
  return Buffer.from(s + '\r\n');
}

function toReply(m: Message): Reply {
  let json: unknown = null;
  try {
    json = m.payload.length === 0 ? null : JSON.parse(m.payload.toString());
  } catch {
    json = null;
  }
  return { noResponders: false, headers: m.headers === null ? null : m.headers.toString(), payload: m.payload, json };
}

/** A herald server for client tests, on a free port and a temporary data dir. */
export async function startHerald(
  opts: StartOptions = {},
): Promise<{ server: Server; dataDir: string; stop(removeDir?: boolean): Promise<void> }> {
  const dataDir = opts.dataDir ?? tmpDir('herald-srv-');
  const server = await Server.start({ port: 0, logger: silentLogger(), ...opts, dataDir });
  return {
    server,
    dataDir,
    async stop(removeDir = true): Promise<void> {
      await server.close();
      if (removeDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `cond` every `stepMs` up to `maxMs`; resolves with its last value (no timing assertions). */
export async function waitFor(cond: () => boolean | Promise<boolean>, maxMs = 5000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + maxMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The JetStream API error a v3 client call failed with; fails the test when it did not fail that way. */
export async function apiErr(p: Promise<unknown>): Promise<{ code: number; err_code: number; description: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof JetStreamApiError) return e.apiError() as { code: number; err_code: number; description: string };
    throw e;
  }
  throw new Error('expected a JetStream API error');
}
