/**
 * The subscriber roles: NATS core subscribers, Redis SUBSCRIBE/PSUBSCRIBE connections and a
 * JetStream pull consumer that acks every message. Each delivery's stamp gives its publisher,
 * sequence and intended send time; the arrival time is taken once per socket read. Subscribers
 * never push back, so a server's slow-consumer policy shows up as loss and disconnects. A
 * connection the server closes is counted and reopened (bounded), as a real client would.
 */
import type net from 'node:net';
import { nowMs } from '../lib/cpu.js';
import { connectNats, encodePub, encodeSub, flushNats, lineTokens } from '../lib/nats-wire.js';
import { connectRedisSocket, encodeCommand } from '../lib/resp-wire.js';
import { LatencyHistogram } from './histogram.js';
import type { LatRole, LatRoleConfig, SubResult } from './ipc.js';
import { LossCounter } from './loss.js';
import { RespPushScanner } from './resp-push.js';
import { FLAG_WARMUP, readStamp, STAMP_BYTES } from './stamp.js';

/** Reopens per connection before giving up on it (keeps a flapping run bounded). */
const MAX_RECONNECTS = 100;
/** Pause before a reopen, ms. */
const RECONNECT_DELAY_MS = 20;
/** JetStream pulls: messages per pull request, and pull requests kept open. */
const PULL_BATCH = 500;
const PULLS_OPEN = 4;
/** Pull requests outlive any run; the stream is deleted afterwards. */
const PULL_EXPIRES_NS = 600e9;

/** Shared tallies of one subscriber process. */
class Tally {
  readonly latency = new LatencyHistogram();
  readonly service = new LatencyHistogram();
  foreign = 0;
  errors = 0;
  firstError: string | null = null;
  disconnects = 0;
  firstAt: number | null = null;
  lastAt: number | null = null;
  total = 0;
  constructor(readonly tag: number) {}

  /** Counts one delivery whose payload starts at `payload[off]`, arrived at `at`. */
  deliver(loss: LossCounter, payload: Buffer, off: number, at: number): void {
    const s = payload.length - off >= STAMP_BYTES ? readStamp(payload, off) : null;
    if (s === null || s.tag !== this.tag) {
      this.foreign++;
      return;
    }
    this.total++;
    this.firstAt ??= at;
    this.lastAt = at;
    loss.see(s.pub, s.seq);
    if ((s.flags & FLAG_WARMUP) === 0) {
      this.latency.recordFromIntended(s.intendedMs, at);
      this.service.recordFromIntended(s.writtenMs, at);
    }
  }

  error(text: string): void {
    this.errors++;
    this.firstError ??= text;
  }
}

/** One subscribed connection that reopens itself when the server drops it. */
type Opener = (cfg: LatRoleConfig, index: number, loss: LossCounter, tally: Tally) => Promise<net.Socket>;

/** A NATS connection subscribed to its subject (wildcards included). */
const openNats: Opener = async (cfg, index, loss, tally) => {
  const raw = await connectNats(cfg.url, `${cfg.label}-${index}`, cfg.connectTimeoutMs);
  let at = 0;
  raw.scanner.handlers.onMsg = (_line, payload) => tally.deliver(loss, payload, 0, at);
  raw.scanner.handlers.onErr = (t) => tally.error(t);
  raw.socket.removeAllListeners('data');
  raw.socket.on('data', (d: Buffer) => {
    at = nowMs();
    raw.scanner.feed(d);
  });
  raw.socket.write(encodeSub(cfg.subjects[index]!, 1));
  await flushNats(raw, cfg.connectTimeoutMs);
  return raw.socket;
};

/** A Redis connection in subscribe mode (SUBSCRIBE, or PSUBSCRIBE for patterns). */
const openRedis: Opener = async (cfg, index, loss, tally) => {
  const socket = await connectRedisSocket(cfg.url, cfg.connectTimeoutMs);
  socket.on('error', () => undefined);
  let at = 0;
  let subscribed!: () => void;
  let timer!: NodeJS.Timeout;
  const ready = new Promise<void>((resolve, reject) => {
    subscribed = resolve;
    timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no SUBSCRIBE confirmation within ${cfg.connectTimeoutMs} ms`));
    }, cfg.connectTimeoutMs);
  });
  let acks = 0;
  const scanner = new RespPushScanner(STAMP_BYTES, (head) => {
    // The subscribe confirmation ends in an integer, so every head handed here is a delivery.
    tally.deliver(loss, head, 0, at);
  });
  socket.on('data', (d: Buffer) => {
    at = nowMs();
    if (acks === 0) {
      acks = 1;
      subscribed();
    }
    scanner.feed(d);
    if (scanner.errors > 0 && tally.firstError === null) tally.error(scanner.firstError ?? 'error reply');
  });
  socket.write(encodeCommand([cfg.pattern ? 'PSUBSCRIBE' : 'SUBSCRIBE', cfg.subjects[index]!]));
  await ready;
  clearTimeout(timer);
  return socket;
};

/** A JetStream pull consumer: keeps PULLS_OPEN requests of PULL_BATCH open and acks each message. */
const openJs: Opener = async (cfg, index, loss, tally) => {
  const raw = await connectNats(cfg.url, `${cfg.label}-${index}`, cfg.connectTimeoutMs);
  const inbox = `_INBOX.latpull.${process.pid}.${index}`;
  const pull = encodePub(
    `$JS.API.CONSUMER.MSG.NEXT.${cfg.stream}.${cfg.consumer}`,
    Buffer.from(JSON.stringify({ batch: PULL_BATCH, expires: PULL_EXPIRES_NS })),
    inbox,
  );
  let at = 0;
  let sincePull = 0;
  const acks: Buffer[] = [];
  raw.scanner.handlers.onMsg = (line, payload, hasHeaders) => {
    if (hasHeaders) {
      // A status for a pull request (408 expired, 409 …): no data message carries headers here.
      tally.error(payload.toString('latin1').split('\r\n', 1)[0] ?? 'status');
      return;
    }
    const tok = lineTokens(line); // MSG <subject> <sid> <reply> <size>
    if (tok.length === 5) acks.push(Buffer.from(`PUB ${tok[3]} 0\r\n\r\n`));
    sincePull++;
    tally.deliver(loss, payload, 0, at);
  };
  raw.scanner.handlers.onErr = (t) => tally.error(t);
  raw.socket.removeAllListeners('data');
  raw.socket.on('data', (d: Buffer) => {
    at = nowMs();
    raw.scanner.feed(d);
    while (sincePull >= PULL_BATCH) {
      sincePull -= PULL_BATCH;
      acks.push(pull);
    }
    if (acks.length > 0) raw.socket.write(Buffer.concat(acks.splice(0)));
  });
  raw.socket.write(encodeSub(inbox, 1));
  const first: Buffer[] = [];
  for (let i = 0; i < PULLS_OPEN; i++) first.push(pull);
  raw.socket.write(Buffer.concat(first));
  await flushNats(raw, cfg.connectTimeoutMs);
  return raw.socket;
};

/** Opens every connection of a subscriber process; the role reports on `stop`. */
export async function subscriberRole(cfg: LatRoleConfig): Promise<LatRole> {
  const open: Opener = cfg.protocol === 'redis' ? openRedis : cfg.protocol === 'js' ? openJs : openNats;
  const tally = new Tally(cfg.tag);
  const losses: LossCounter[] = [];
  const sockets: net.Socket[] = [];
  let stopped = false;
  const keep = (i: number, s: net.Socket, reopens: number): void => {
    sockets[i] = s;
    s.on('close', () => {
      if (stopped) return;
      tally.disconnects++;
      if (reopens >= MAX_RECONNECTS) return;
      setTimeout(() => {
        if (stopped) return;
        open(cfg, i, losses[i]!, tally).then(
          (n) => keep(i, n, reopens + 1),
          (e: unknown) => tally.error(`reopen: ${e instanceof Error ? e.message : String(e)}`),
        );
      }, RECONNECT_DELAY_MS);
    });
  };
  for (let i = 0; i < cfg.subjects.length; i++) {
    losses.push(new LossCounter());
    keep(i, await open(cfg, i, losses[i]!, tally), 0);
  }
  return {
    start() {
      /* subscribers are passive */
    },
    progress: () => ({ sent: 0, received: tally.total, disconnects: tally.disconnects }),
    async stop() {
      stopped = true;
      for (const s of sockets) s.destroy();
      const res: SubResult = {
        kind: 'sub',
        received: losses.map((l) => l.toJSON()),
        duplicates: losses.reduce((a, l) => a + l.duplicates, 0),
        foreign: tally.foreign,
        latency: tally.latency.count > 0 ? tally.latency.encode() : null,
        service: tally.service.count > 0 ? tally.service.encode() : null,
        errors: tally.errors,
        firstError: tally.firstError,
        disconnects: tally.disconnects,
        firstRecvAt: tally.firstAt,
        lastRecvAt: tally.lastAt,
      };
      tally.latency.destroy();
      tally.service.destroy();
      return res;
    },
  };
}
