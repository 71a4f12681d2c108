/**
 * The same core 1→1 workload driven by the `nats` (nats.js 2.x) client instead of raw sockets,
 * with the same BATCH/WINDOW discipline (a batch of publish() calls, then flush(), ≤ window
 * flushes outstanding). It exists only to show, in the report, how much the client library
 * itself costs compared with the raw generator.
 */
import { connect, type NatsConnection } from 'nats';
import { nowMs } from '../lib/cpu.js';
import { emptyResult } from '../lib/ipc.js';
import { makePayload, parseNatsUrl } from '../lib/nats-wire.js';
import type { RoleFactory } from './role.js';

/** After the publisher stops, how long to wait for its outstanding flushes, ms. */
const TAIL_WAIT_MS = 15_000;
/** How often the subscriber notes that messages arrived, ms (a timestamp per message would cost). */
const RECV_CLOCK_MS = 5;

function servers(url: string): string {
  const a = parseNatsUrl(url);
  return `${a.host}:${a.port}`;
}

async function open(url: string, name: string, timeoutMs: number): Promise<NatsConnection> {
  const a = parseNatsUrl(url);
  return connect({ servers: servers(url), name, timeout: timeoutMs, user: a.user, pass: a.pass, reconnect: false });
}

/** nats.js publisher: `batch` publish() calls then flush(), ≤ `window` flushes outstanding. */
export const clientPub: RoleFactory = async (cfg, api) => {
  const nc = await open(cfg.url, cfg.label, cfg.connectTimeoutMs);
  const payload = makePayload(cfg.payload);
  const res = emptyResult(cfg);
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    res.endAt = nowMs();
    res.received = res.sent;
    nc.close().catch(() => undefined);
    api.done(res);
  };
  const run = async (): Promise<void> => {
    const deadline = (res.startAt ?? nowMs()) + cfg.durationMs;
    const flushes: Array<Promise<void>> = [];
    while (res.sent < cfg.maxMessages && nowMs() < deadline && !finished) {
      const n = Math.min(cfg.batch, cfg.maxMessages - res.sent);
      for (let i = 0; i < n; i++) nc.publish(cfg.subject, payload);
      res.sent += n;
      flushes.push(nc.flush());
      if (flushes.length >= cfg.window) await flushes.shift();
    }
    await Promise.all(flushes);
  };
  return {
    start() {
      res.startAt = nowMs();
      run()
        .catch((e: unknown) => {
          res.errors++;
          res.firstError ??= String(e);
        })
        .finally(finish);
      setTimeout(finish, cfg.durationMs + TAIL_WAIT_MS).unref();
    },
    progress: () => ({ sent: res.sent, received: res.sent, disconnects: 0 }),
    async stop() {
      finish();
      return res;
    },
  };
};

/** nats.js subscriber: one connection, a callback subscription counting messages. */
export const clientSub: RoleFactory = async (cfg) => {
  const nc = await open(cfg.url, cfg.label, cfg.connectTimeoutMs);
  const res = emptyResult(cfg);
  let count = 0;
  let seen = 0;
  nc.subscribe(cfg.subject, {
    callback: () => {
      count++;
    },
  });
  await nc.flush();
  const clock = setInterval(() => {
    if (count !== seen) {
      seen = count;
      const t = nowMs();
      res.firstRecvAt ??= t;
      res.lastRecvAt = t;
    }
  }, RECV_CLOCK_MS);
  return {
    start() {
      res.startAt = nowMs();
    },
    progress: () => ({ sent: 0, received: count, disconnects: 0 }),
    async stop() {
      clearInterval(clock);
      res.endAt = nowMs();
      res.received = count;
      res.perConnection = [count];
      await nc.close().catch(() => undefined);
      return res;
    },
  };
};
