/**
 * Raw-socket Redis roles: pipelined PUBLISH or XADD (pre-encoded batches, ≤ window batches
 * without replies), subscribers counting pushed messages, a synchronous XADD latency loop, and an
 * XREADGROUP + XACK consumer. Counting uses RespCounter; only the consumer parses values.
 */
import { nowMs } from '../lib/cpu.js';
import { finishOnDrop } from '../lib/drops.js';
import { LatencyRecorder } from '../lib/hdr.js';
import { emptyResult, type RoleConfig } from '../lib/ipc.js';
import { makePayload, repeatFrame } from '../lib/nats-wire.js';
import {
  connectRedisSocket,
  encodeCommand,
  parseRedisUrl,
  RespCounter,
  RespParser,
  RespError,
  type RespValue,
} from '../lib/resp-wire.js';
import { ReconnectingSub, subscriberRole } from '../lib/subscribers.js';
import { roleFinisher, type RoleFactory } from './role.js';

/** After the publisher stops, how long to wait for outstanding replies, ms. */
const TAIL_WAIT_MS = 15_000;
/** Error replies after which a latency loop gives up. */
const MAX_LOOP_ERRORS = 10;

/** Replies an AUTH (sent by connectRedisSocket when the URL has a password) adds before ours. */
function authReplies(url: string): number {
  return parseRedisUrl(url).pass !== undefined ? 1 : 0;
}

/** The pipelined command of a publisher role. */
function pipelinedCommand(cfg: RoleConfig): Buffer {
  const payload = makePayload(cfg.payload);
  if (cfg.role === 'redis-xadd') return encodeCommand(['XADD', cfg.subject, '*', 'd', payload]);
  return encodeCommand(['PUBLISH', cfg.subject, payload]);
}

/**
 * Pipelined publisher (PUBLISH or XADD): writes pre-encoded batches of `batch` commands while at
 * most `window` batches lack their replies; stops on duration or count, then waits for the tail.
 */
export const redisPipe: RoleFactory = async (cfg, api) => {
  const socket = await connectRedisSocket(cfg.url, cfg.connectTimeoutMs);
  const counter = new RespCounter();
  const skipReplies = authReplies(cfg.url);
  const frame = pipelinedCommand(cfg);
  const full = repeatFrame(frame, cfg.batch);
  const res = emptyResult(cfg);
  let deadline = 0;
  let stopping = false;
  let started = false;
  const replies = (): number => Math.max(0, counter.values - skipReplies);
  const { finish, finished } = roleFinisher(res, api, () => {
    // OK replies only: an error reply is counted apart and never reaches the rate.
    res.received = replies() - counter.errors;
    res.errors = counter.errors;
    res.firstError = counter.firstError;
    socket.destroy();
  });
  const pump = (): void => {
    while (!stopping) {
      if (res.sent >= cfg.maxMessages || nowMs() >= deadline) {
        stopping = true;
        break;
      }
      if (res.sent - replies() > (cfg.window - 1) * cfg.batch) break;
      const n = Math.min(cfg.batch, cfg.maxMessages - res.sent);
      socket.write(n === cfg.batch ? full : repeatFrame(frame, n));
      res.sent += n;
    }
    if (stopping && replies() >= res.sent) finish();
  };
  socket.on('data', (d: Buffer) => {
    const before = counter.values;
    counter.feed(d);
    if (started && counter.values !== before) pump();
  });
  finishOnDrop(socket, res, finished, finish, 'publisher connection closed by the server');
  socket.on('error', () => undefined);
  return {
    start() {
      started = true;
      res.startAt = nowMs();
      deadline = res.startAt + cfg.durationMs;
      pump();
      setTimeout(() => finish(), cfg.durationMs + TAIL_WAIT_MS).unref();
    },
    progress: () => ({ sent: res.sent, received: replies(), disconnects: res.disconnects }),
    async stop() {
      stopping = true;
      finish();
      return res;
    },
  };
};

/** One SUBSCRIBE connection; pushed values minus the subscribe confirmation are messages. */
class RedisSub extends ReconnectingSub {
  constructor(private readonly cfg: RoleConfig) {
    super();
  }

  async open(): Promise<void> {
    const socket = await connectRedisSocket(this.cfg.url, this.cfg.connectTimeoutMs);
    const counter = new RespCounter();
    // Values before the first message: AUTH's reply, if any, and the subscribe confirmation.
    const overhead = authReplies(this.cfg.url) + 1;
    let confirmed = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no SUBSCRIBE confirmation')), this.cfg.connectTimeoutMs);
      socket.on('data', (d: Buffer) => {
        const before = counter.values;
        counter.feed(d);
        if (!confirmed) {
          if (counter.values >= overhead) {
            confirmed = true;
            clearTimeout(timer);
            resolve();
          } else return;
        }
        this.counted(Math.max(0, counter.values - Math.max(before, overhead)));
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error('subscriber connection closed'));
      });
      socket.on('error', () => undefined);
      socket.write(encodeCommand(['SUBSCRIBE', this.cfg.subject]));
    });
    this.adopt(socket);
  }
}

/** Redis subscribers: `connections` SUBSCRIBE sockets in this process; no backpressure. */
export const redisSub: RoleFactory = (cfg) => subscriberRole(cfg, () => new RedisSub(cfg));

/** Synchronous XADD: one in flight, `warmup` unmeasured, latency of each OK reply (error replies are retried, not sampled). */
export const redisXaddSync: RoleFactory = async (cfg, api) => {
  const socket = await connectRedisSocket(cfg.url, cfg.connectTimeoutMs);
  const counter = new RespCounter();
  const skip = authReplies(cfg.url);
  const frame = encodeCommand(['XADD', cfg.subject, '*', 'd', makePayload(cfg.payload)]);
  const rec = new LatencyRecorder();
  const res = emptyResult(cfg);
  let t0 = 0n;
  let warm = 0;
  let measured = 0;
  let measuring = false;
  let deadline = 0;
  const { finish, finished } = roleFinisher(res, api, () => {
    res.received = measured;
    res.errors = counter.errors;
    res.firstError = counter.firstError;
    res.latency = rec.summary();
    socket.destroy();
  });
  const fire = (): void => {
    t0 = process.hrtime.bigint();
    socket.write(frame);
    res.sent++;
  };
  let seen = skip;
  let errorsSeen = 0;
  socket.on('data', (d: Buffer) => {
    counter.feed(d);
    if (counter.values <= seen || finished()) return;
    seen = counter.values;
    const dt = Number(process.hrtime.bigint() - t0);
    if (counter.errors >= MAX_LOOP_ERRORS) return finish();
    if (counter.errors > errorsSeen) {
      // An error reply is not a round trip: no sample, no warm-up; send again.
      errorsSeen = counter.errors;
      fire();
      return;
    }
    if (!measuring) {
      if (++warm >= cfg.warmup) {
        measuring = true;
        deadline = nowMs() + cfg.durationMs;
        res.startAt = nowMs();
        api.measuring();
      }
    } else {
      rec.recordNs(dt);
      measured++;
      if (measured >= cfg.maxMessages || ((measured & 63) === 0 && nowMs() >= deadline)) return finish();
    }
    fire();
  });
  finishOnDrop(socket, res, finished, finish);
  socket.on('error', () => undefined);
  return {
    start() {
      fire();
      setTimeout(() => finish(), cfg.durationMs + TAIL_WAIT_MS * 2).unref();
    },
    progress: () => ({ sent: res.sent, received: measured, disconnects: res.disconnects }),
    async stop() {
      finish();
      return res;
    },
  };
};

/** Stream entry ids of an XREADGROUP reply: [[key, [[id, [field, value…]], …]], …]. */
function entryIds(v: RespValue): Buffer[] {
  const ids: Buffer[] = [];
  if (!Array.isArray(v)) return ids;
  for (const stream of v) {
    if (!Array.isArray(stream)) continue;
    const entries = stream[1];
    if (!Array.isArray(entries)) continue;
    for (const e of entries) {
      if (Array.isArray(e) && Buffer.isBuffer(e[0])) ids.push(e[0]);
    }
  }
  return ids;
}

/**
 * XREADGROUP COUNT `batch` + XACK: one read in flight; each reply's ids are acked in the same
 * write as the next read (ack pipelined, not awaited). Ends on an empty read (backlog consumed),
 * on `maxMessages`, or on the duration, after the last XACK's reply.
 */
export const redisXreadgroup: RoleFactory = async (cfg, api) => {
  const socket = await connectRedisSocket(cfg.url, cfg.connectTimeoutMs);
  const group = cfg.group ?? 'bench';
  const consumer = cfg.consumer ?? 'c1';
  const read = encodeCommand(['XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(cfg.batch), 'STREAMS', cfg.subject, '>']);
  const res = emptyResult(cfg);
  /** What each outstanding reply answers, in order. */
  const expect: Array<'auth' | 'read' | 'ack'> = [];
  if (authReplies(cfg.url) > 0) expect.push('auth');
  let deadline = 0;
  let stopping = false;
  const { finish, finished } = roleFinisher(res, api, () => {
    socket.destroy();
  });
  const parser = new RespParser((v) => {
    const kind = expect.shift();
    if (v instanceof RespError) {
      res.errors++;
      res.firstError ??= v.message;
    }
    if (kind === 'read') {
      const ids = entryIds(v);
      const t = nowMs();
      if (ids.length > 0) {
        res.firstRecvAt ??= t;
        res.lastRecvAt = t;
        res.received += ids.length;
        socket.write(encodeCommand(['XACK', cfg.subject, group, ...ids]));
        expect.push('ack');
      }
      if (ids.length === 0 || res.received >= cfg.maxMessages || t >= deadline || res.errors > 0) stopping = true;
      if (!stopping) {
        socket.write(read);
        res.sent++;
        expect.push('read');
      }
    }
    if (stopping && expect.length === 0) finish();
  });
  socket.on('data', (d: Buffer) => parser.feed(d));
  finishOnDrop(socket, res, finished, finish);
  socket.on('error', () => undefined);
  return {
    start() {
      res.startAt = nowMs();
      deadline = res.startAt + cfg.durationMs;
      socket.write(read);
      res.sent++;
      expect.push('read');
      setTimeout(() => finish(), cfg.durationMs + TAIL_WAIT_MS * 2).unref();
    },
    progress: () => ({ sent: res.sent, received: res.received, disconnects: res.disconnects }),
    async stop() {
      stopping = true;
      finish();
      return res;
    },
  };
};
