/**
 * The publisher role: `connections` raw sockets (NATS core, JetStream with acks, or Redis
 * PUBLISH), one pre-encoded frame per connection, stamped in place in a copy per message.
 * Open mode follows a RateScheduler and never waits for the server: each 1 ms quantum's messages
 * go round-robin over the connections, stamped with the quantum's intended time. The only limit
 * is a bounded send buffer per connection (a second of its offered load): when the server stops
 * reading and it is full, the messages due are counted as `blocked` (the server's backpressure)
 * instead of queueing without bound in the generator. Closed mode (calibration) keeps `window` batches (or acks) in flight.
 */
import net from 'node:net';
import { nowMs } from '../lib/cpu.js';
import { connectNats, encodePub, encodeSub, flushNats, makePayload, PING, type RawNats } from '../lib/nats-wire.js';
import { connectRedisSocket, encodeCommand, RespCounter } from '../lib/resp-wire.js';
import { LatencyHistogram } from './histogram.js';
import type { LatRole, LatRoleConfig, PubResult } from './ipc.js';
import { RateScheduler } from './schedule.js';
import { FLAG_WARMUP, STAMP_BYTES, writeStamp } from './stamp.js';

/**
 * A connection may hold this many seconds of its offered load unsent before more is refused: a
 * generator that wakes up late writes a burst that the kernel takes in a moment, while a server
 * that stopped reading leaves a whole second of messages waiting.
 */
const BUFFER_SECONDS = 1;
/** …but at least this much per connection… */
const CONN_MIN_BUFFER_BYTES = 1024 * 1024;
/** …and at most this much for all of a process's connections together (bounds its memory). */
const PROCESS_BUFFER_BYTES = 256 * 1024 * 1024;
/** The schedule's time quantum, ms: Node timers fire at 1 ms granularity at best. */
const QUANTUM_MS = 1;
/** After the schedule ends, how long the final PING/flush may take, ms. */
const TAIL_MS = 10_000;

interface Conn {
  pub: number;
  socket: net.Socket;
  frame: Buffer;
  stampAt: number;
  seq: number;
  sent: number;
  acked: number;
  closed: boolean;
}

function frameFor(cfg: LatRoleConfig, subject: string, inbox: string): { frame: Buffer; stampAt: number } {
  const payload = makePayload(Math.max(STAMP_BYTES, cfg.payload));
  const frame =
    cfg.protocol === 'redis'
      ? encodeCommand(['PUBLISH', subject, payload])
      : cfg.protocol === 'js'
        ? encodePub(subject, payload, inbox)
        : encodePub(subject, payload);
  return { frame, stampAt: frame.length - 2 - payload.length };
}

/** Poll interval while waiting for the last replies, ms. */
const ACK_POLL_MS = 10;

/** Resolves when every open connection has a reply for each message it wrote, or after `timeoutMs`. */
async function allAcked(conns: readonly Conn[], timeoutMs: number): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  while (nowMs() < deadline && conns.some((c) => !c.closed && c.acked < c.sent))
    await new Promise((r) => setTimeout(r, ACK_POLL_MS));
}

/** Connects every publisher connection and returns the role; `onFinished` runs when the schedule (or closed loop) ends. */
export async function publisherRole(cfg: LatRoleConfig, onFinished: () => void): Promise<LatRole> {
  const res: PubResult = {
    kind: 'pub',
    sent: {},
    blocked: 0,
    acks: 0,
    errors: 0,
    firstError: null,
    disconnects: 0,
    lag: null,
    startAt: null,
    endAt: null,
  };
  const conns: Conn[] = [];
  const nats: RawNats[] = [];
  const lag = new LatencyHistogram();
  let stopping = false;
  const noteError = (text: string): void => {
    res.errors++;
    res.firstError ??= text;
  };
  for (let i = 0; i < cfg.pubIds.length; i++) {
    const pub = cfg.pubIds[i]!;
    const inbox = `_INBOX.latack.${process.pid}.${i}`;
    const { frame, stampAt } = frameFor(cfg, cfg.subjects[i]!, inbox);
    let socket: net.Socket;
    const c = { pub, frame, stampAt, seq: 0, sent: 0, acked: 0, closed: false } as Conn;
    if (cfg.protocol === 'redis') {
      socket = await connectRedisSocket(cfg.url, cfg.connectTimeoutMs);
      socket.on('error', () => undefined);
      const counter = new RespCounter();
      socket.on('data', (d: Buffer) => {
        const before = counter.values;
        counter.feed(d);
        c.acked += counter.values - before;
        if (counter.errors > res.errors) {
          res.errors = counter.errors;
          res.firstError ??= counter.firstError;
        }
      });
    } else {
      const raw = await connectNats(cfg.url, `${cfg.label}-${i}`, cfg.connectTimeoutMs);
      nats.push(raw);
      socket = raw.socket;
      if (cfg.protocol === 'js') {
        raw.scanner.handlers.onMsg = (_line, payload) => {
          c.acked++;
          if (payload.includes('"error"')) noteError(payload.toString('utf8'));
        };
        socket.write(encodeSub(inbox, 1));
        await flushNats(raw, cfg.connectTimeoutMs);
      } else {
        raw.scanner.handlers.onPong = () => {
          c.acked += cfg.batch;
        };
      }
      raw.scanner.handlers.onErr = (t) => noteError(t);
    }
    c.socket = socket;
    socket.on('close', () => {
      c.closed = true;
      if (!stopping) res.disconnects++;
    });
    conns.push(c);
  }
  const frameBytes = conns[0]?.frame.length ?? 0;
  const perConnRate = cfg.mode === 'open' ? cfg.rate / Math.max(1, conns.length) : 0;
  const perConnLimit = Math.min(
    PROCESS_BUFFER_BYTES / Math.max(1, conns.length),
    Math.max(CONN_MIN_BUFFER_BYTES, perConnRate * frameBytes * BUFFER_SECONDS),
  );

  /** Writes `count` stamped frames on c; returns how many were blocked instead. */
  const send = (c: Conn, count: number, intendedMs: number, writtenMs: number, flags: number, tail?: Buffer): number => {
    if (c.closed || c.socket.writableLength > perConnLimit) return count;
    const fl = c.frame.length;
    const out = Buffer.allocUnsafe(fl * count + (tail ? tail.length : 0));
    for (let k = 0; k < count; k++) {
      const off = k * fl;
      c.frame.copy(out, off);
      writeStamp(out, off + c.stampAt, intendedMs, writtenMs, c.pub, ++c.seq, cfg.tag, flags);
    }
    if (tail) tail.copy(out, fl * count);
    c.socket.write(out);
    c.sent += count;
    return 0;
  };

  let timer: NodeJS.Timeout | null = null;
  let finishedAt: number | null = null;
  const finish = (): void => {
    if (finishedAt !== null) return;
    finishedAt = nowMs();
    res.endAt = finishedAt;
    onFinished();
  };

  const openLoop = (atMs: number): void => {
    const measureFrom = atMs + cfg.warmupMs;
    const sched = new RateScheduler(cfg.rate, atMs, QUANTUM_MS, measureFrom + cfg.durationMs);
    let rr = 0;
    const counts = new Array<number>(conns.length).fill(0);
    const tick = (): void => {
      timer = null;
      if (stopping) return;
      const now = nowMs();
      for (const t of sched.take(now)) {
        const warm = t.intendedMs < measureFrom;
        if (!warm) lag.recordFromIntended(t.intendedMs, now);
        // Spread the quantum round-robin: connection rr gets the first message, and so on.
        const n = conns.length;
        const flags = warm ? FLAG_WARMUP : 0;
        if (t.count < n) {
          // Fewer messages than connections (10,000 sensors): touch only the connections due.
          for (let k = 0; k < t.count; k++) res.blocked += send(conns[(rr + k) % n]!, 1, t.intendedMs, now, flags);
          rr = (rr + t.count) % n;
          continue;
        }
        const base = Math.floor(t.count / n);
        const extra = t.count - base * n;
        for (let j = 0; j < n; j++) counts[(rr + j) % n] = base + (j < extra ? 1 : 0);
        rr = (rr + extra) % n;
        for (let j = 0; j < n; j++) res.blocked += send(conns[j]!, counts[j]!, t.intendedMs, now, flags);
      }
      if (sched.finished) {
        finish();
        return;
      }
      timer = setTimeout(tick, Math.max(0, sched.nextAt() - nowMs()));
    };
    res.startAt = measureFrom;
    timer = setTimeout(tick, Math.max(0, atMs - nowMs()));
  };

  const closedLoop = (atMs: number): void => {
    const measureFrom = atMs + cfg.warmupMs;
    const endAt = measureFrom + cfg.durationMs;
    const inFlight = cfg.batch * cfg.window;
    const pump = (): void => {
      timer = null;
      if (stopping) return;
      const now = nowMs();
      if (now >= endAt) {
        finish();
        return;
      }
      const flags = now < measureFrom ? FLAG_WARMUP : 0;
      for (const c of conns) {
        while (!c.closed && c.sent - c.acked < inFlight && c.socket.writableLength <= perConnLimit) {
          send(c, cfg.batch, now, now, flags, cfg.protocol === 'nats' ? PING : undefined);
        }
      }
      // Acks arrive on socket reads; re-check soon without spinning the CPU.
      timer = setTimeout(pump, 0);
    };
    res.startAt = measureFrom;
    for (const c of conns) c.socket.on('data', () => undefined);
    timer = setTimeout(pump, Math.max(0, atMs - nowMs()));
  };

  return {
    start(atMs: number) {
      if (cfg.mode === 'open') openLoop(atMs);
      else closedLoop(atMs);
    },
    progress: () => ({ sent: conns.reduce((a, c) => a + c.sent, 0), received: 0, disconnects: res.disconnects }),
    async stop() {
      if (finishedAt === null) finish();
      if (timer) clearTimeout(timer);
      // Everything written was read by the server once its PONG (core) or its reply/ack (Redis,
      // JetStream) is back; bounded, so a server that stopped reading cannot hold the run.
      // (Closed-loop core publishers count a batch per PONG, so their last PONG is their flush;
      // a flush PING behind unanswered batch PINGs would be answered by an older PONG.)
      if (cfg.protocol === 'nats' && cfg.mode === 'open')
        await Promise.all(nats.map((raw) => flushNats(raw, TAIL_MS).catch(() => undefined)));
      else await allAcked(conns, TAIL_MS);
      stopping = true;
      for (const c of conns) {
        res.sent[String(c.pub)] = c.sent;
        res.acks += cfg.protocol === 'nats' ? 0 : c.acked;
        c.socket.destroy();
      }
      res.lag = lag.count > 0 ? lag.encode() : null;
      lag.destroy();
      return res;
    },
  };
}
