/**
 * Raw-socket NATS roles: core publisher and subscribers, request/reply, and the JetStream
 * publisher, sync publisher and pull consumer. Hot paths write pre-encoded buffers and count
 * frames with NatsScanner; the only per-message work is counting (and, for the consumer, copying
 * the ack subject into the next write).
 */
import { nowMs } from '../lib/cpu.js';
import { finishOnDrop } from '../lib/drops.js';
import { LatencyRecorder } from '../lib/hdr.js';
import { emptyResult, type RoleConfig, type RoleResult } from '../lib/ipc.js';
import {
  connectNats,
  encodePub,
  encodeSub,
  flushNats,
  lineTokens,
  makePayload,
  PING,
  repeatFrame,
  type RawNats,
} from '../lib/nats-wire.js';
import { ReconnectingSub, subscriberRole } from '../lib/subscribers.js';
import { roleFinisher, type Role, type RoleApi, type RoleFactory } from './role.js';

/** After the publisher stops, how long to wait for outstanding PONGs or acks, ms. */
const TAIL_WAIT_MS = 15_000;
/** Error replies after which a latency loop gives up (e.g. no responders, no stream). */
const MAX_LOOP_ERRORS = 10;
/** Room for ack frames built per read; ack subjects are < 200 bytes and a read is ≤ 64 KiB. */
const ACK_BUF_BYTES = 1 << 20;

/** A unique inbox for this process. */
function inbox(kind: string): string {
  return `_INBOX.bench.${kind}.${process.pid}`;
}

/** Connects as `cfg.label` and subscribes to this process's `kind` inbox; resolves once the server has the subscription. */
async function connectWithInbox(cfg: RoleConfig, kind: string): Promise<{ raw: RawNats; box: string }> {
  const raw = await connectNats(cfg.url, cfg.label, cfg.connectTimeoutMs);
  const box = inbox(kind);
  raw.socket.write(encodeSub(box, 1));
  await flushNats(raw, cfg.connectTimeoutMs);
  return { raw, box };
}

/** Core publisher: batches of pre-encoded PUBs each followed by PING; ≤ window batches unanswered. */
export const natsPub: RoleFactory = async (cfg, api) => {
  const raw = await connectNats(cfg.url, cfg.label, cfg.connectTimeoutMs);
  const frame = encodePub(cfg.subject, makePayload(cfg.payload));
  const full = repeatFrame(frame, cfg.batch, PING);
  const res = emptyResult(cfg);
  let inFlight: number[] = [];
  let deadline = 0;
  let stopping = false;
  let acked = 0;
  const { finish, finished } = roleFinisher(res, api, () => {
    res.received = acked;
    raw.socket.destroy();
  });
  const send = (): void => {
    const left = cfg.maxMessages - res.sent;
    const n = Math.min(cfg.batch, left);
    if (n <= 0) return;
    raw.socket.write(n === cfg.batch ? full : repeatFrame(frame, n, PING));
    res.sent += n;
    inFlight.push(n);
  };
  raw.scanner.handlers.onPong = () => {
    acked += inFlight.shift() ?? 0;
    if (!stopping && (res.sent >= cfg.maxMessages || nowMs() >= deadline)) stopping = true;
    if (!stopping) send();
    else if (inFlight.length === 0) finish();
  };
  raw.scanner.handlers.onErr = (text) => {
    res.errors++;
    res.firstError ??= text;
  };
  finishOnDrop(raw.socket, res, finished, finish, 'publisher connection closed by the server');
  return {
    start() {
      res.startAt = nowMs();
      deadline = res.startAt + cfg.durationMs;
      for (let i = 0; i < cfg.window; i++) send();
      setTimeout(() => finish(), cfg.durationMs + TAIL_WAIT_MS).unref();
    },
    progress: () => ({ sent: res.sent, received: acked, disconnects: res.disconnects }),
    async stop() {
      stopping = true;
      inFlight = [];
      finish();
      return res;
    },
  };
};

/** One core subscriber connection, counting MSG and HMSG frames. */
class CountingSub extends ReconnectingSub {
  constructor(
    private readonly cfg: RoleConfig,
    private readonly name: string,
  ) {
    super();
  }

  async open(): Promise<void> {
    const raw = await connectNats(this.cfg.url, this.name, this.cfg.connectTimeoutMs);
    const sc = raw.scanner;
    let base = 0;
    raw.socket.removeAllListeners('data');
    raw.socket.on('data', (d: Buffer) => {
      base = sc.msgs + sc.hmsgs;
      sc.feed(d);
      this.counted(sc.msgs + sc.hmsgs - base);
    });
    raw.socket.write(encodeSub(this.cfg.subject, 1, this.cfg.queue));
    await flushNats(raw, this.cfg.connectTimeoutMs);
    this.adopt(raw.socket);
  }
}

/** Core subscribers: `connections` sockets in this process, counting MSG frames, no backpressure. */
export const natsSub: RoleFactory = (cfg) => subscriberRole(cfg, (i) => new CountingSub(cfg, `${cfg.label}-${i}`));

/** Replier: answers every request on `subject` with its own payload, to the request's reply subject. */
export const natsReplier: RoleFactory = async (cfg) => {
  const raw = await connectNats(cfg.url, cfg.label, cfg.connectTimeoutMs);
  const res = emptyResult(cfg);
  raw.scanner.handlers.onMsg = (line, payload) => {
    const tok = lineTokens(line); // MSG <subject> <sid> [reply] <size>
    res.received++;
    if (tok.length < 5) return;
    raw.socket.write(encodePub(tok[3]!, Buffer.from(payload)));
    res.sent++;
  };
  raw.socket.write(encodeSub(cfg.subject, 1));
  await flushNats(raw, cfg.connectTimeoutMs);
  return {
    start() {
      res.startAt = nowMs();
    },
    progress: () => ({ sent: res.sent, received: res.received, disconnects: 0 }),
    async stop() {
      res.endAt = nowMs();
      raw.socket.destroy();
      return res;
    },
  };
};

/**
 * A closed loop with one request in flight: `warmup` unmeasured rounds, then measured rounds until
 * the duration or count runs out. `fire` sends one request; `reply()` must be called per answer.
 */
class ClosedLoop {
  readonly rec = new LatencyRecorder();
  done = 0;
  private t0 = 0n;
  private deadline = 0;
  private measuring = false;
  private warm = 0;
  private finished = false;

  constructor(
    private readonly cfg: RoleConfig,
    private readonly fire: () => void,
    private readonly onMeasuring: () => void,
    private readonly onFinish: () => void,
  ) {}

  begin(): void {
    this.next();
  }

  private next(): void {
    if (this.finished) return;
    this.t0 = process.hrtime.bigint();
    this.fire();
  }

  reply(): void {
    if (this.finished) return;
    const dt = Number(process.hrtime.bigint() - this.t0);
    if (!this.measuring) {
      this.warm++;
      if (this.warm >= this.cfg.warmup) {
        this.measuring = true;
        this.deadline = nowMs() + this.cfg.durationMs;
        this.onMeasuring();
      }
      this.next();
      return;
    }
    this.rec.recordNs(dt);
    this.done++;
    // Checking the clock every 64 rounds keeps hrtime off most iterations.
    if (this.done >= this.cfg.maxMessages || ((this.done & 63) === 0 && nowMs() >= this.deadline)) {
      this.end();
      return;
    }
    this.next();
  }

  /**
   * An answer that does not count (an error reply, a misrouted one): no latency sample, no
   * warm-up or measured round; the request is sent again.
   */
  retry(): void {
    this.next();
  }

  end(): void {
    if (this.finished) return;
    this.finished = true;
    this.onFinish();
  }
}

/**
 * A ClosedLoop that writes `frame` on `raw` per round. When it ends it fills in `res` (rounds and
 * their latency), closes the socket and reports done; the socket closing ends it too.
 */
function socketLoop(cfg: RoleConfig, api: RoleApi, raw: RawNats, frame: Buffer, res: RoleResult): ClosedLoop {
  let finished = false;
  const loop = new ClosedLoop(
    cfg,
    () => {
      raw.socket.write(frame);
      res.sent++;
    },
    () => {
      res.startAt = nowMs();
      api.measuring();
    },
    () => {
      if (finished) return;
      finished = true;
      res.endAt = nowMs();
      res.received = loop.done;
      res.latency = loop.rec.summary();
      raw.socket.destroy();
      api.done(res);
    },
  );
  raw.socket.on('close', () => {
    res.disconnects++;
    loop.end();
  });
  return loop;
}

/** The role around a socketLoop: `start` begins it (and arms its timeout); `stop` ends it. */
function loopRole(loop: ClosedLoop, res: RoleResult, start: () => void): Role {
  return {
    start,
    progress: () => ({ sent: res.sent, received: loop.done, disconnects: res.disconnects }),
    async stop() {
      loop.end();
      return res;
    },
  };
}

/** Measures the PING/PONG round trip for `ms` (after `warmup` PINGs): the protocol floor. */
function measurePingFloor(raw: RawNats, cfg: RoleConfig, ms: number): Promise<LatencyRecorder> {
  return new Promise((resolve) => {
    const rec = new LatencyRecorder();
    let n = 0;
    let t0 = 0n;
    let deadline = Number.POSITIVE_INFINITY;
    const prev = raw.scanner.handlers.onPong;
    const ping = (): void => {
      t0 = process.hrtime.bigint();
      raw.socket.write(PING);
    };
    raw.scanner.handlers.onPong = () => {
      const dt = Number(process.hrtime.bigint() - t0);
      n++;
      if (n === cfg.warmup) deadline = nowMs() + ms;
      if (n > cfg.warmup) rec.recordNs(dt);
      if (n - cfg.warmup >= cfg.maxMessages || nowMs() >= deadline) {
        raw.scanner.handlers.onPong = prev;
        resolve(rec);
        return;
      }
      ping();
    };
    ping();
  });
}

/** Requester: PING floor first, then request/reply round trips through a replier, one in flight. */
export const natsRequester: RoleFactory = async (cfg, api) => {
  const { raw, box } = await connectWithInbox(cfg, 'req');
  const req = encodePub(cfg.subject, makePayload(cfg.payload), box);
  const res = emptyResult(cfg);
  const loop = socketLoop(cfg, api, raw, req, res);
  raw.scanner.handlers.onMsg = (_line, payload, hasHeaders) => {
    if (hasHeaders) {
      // A status message (503 no responders) instead of a reply: not a round trip, no sample.
      res.errors++;
      res.firstError ??= 'no responders (status message instead of a reply)';
      if (res.errors >= MAX_LOOP_ERRORS) loop.end();
      else setTimeout(() => loop.retry(), 10);
      return;
    }
    if (payload.length !== cfg.payload) {
      // The replier echoes the request: another size is someone else's message.
      res.misrouted = (res.misrouted ?? 0) + 1;
      loop.retry();
      return;
    }
    loop.reply();
  };
  return loopRole(loop, res, () => {
    measurePingFloor(raw, cfg, cfg.floorMs)
      .then((rec) => {
        res.floor = rec.summary();
        loop.begin();
      })
      .catch(() => loop.end());
    setTimeout(() => loop.end(), cfg.floorMs + cfg.durationMs + TAIL_WAIT_MS * 2).unref();
  });
};

/** What a JetStream publish got back. */
type AckKind = 'ok' | 'error' | 'misrouted';

/**
 * Classifies a JetStream ack payload, `{"stream":..,"seq":..}` or `{"error":{..}}`, counting errors
 * and misroutes in `res`. `stream` (the `"stream":"NAME"` bytes) is checked when known: an OK ack
 * naming another stream is misrouted.
 */
function checkAck(res: RoleResult, payload: Buffer, hasHeaders: boolean, stream: Buffer | null): AckKind {
  if (hasHeaders) {
    res.errors++;
    res.firstError ??= 'status message instead of an ack (no stream listening on the subject?)';
    return 'error';
  }
  if (payload.indexOf('"error"') >= 0) {
    res.errors++;
    res.firstError ??= payload.toString('utf8');
    return 'error';
  }
  if (stream !== null && payload.indexOf(stream) < 0) {
    res.misrouted = (res.misrouted ?? 0) + 1;
    res.firstError ??= `ack for another stream: ${payload.toString('utf8')}`;
    return 'misrouted';
  }
  return 'ok';
}

/** The `"stream":"NAME"` bytes an OK ack for cfg.stream carries (Go JSON, no spaces), or null. */
function streamMark(cfg: RoleConfig): Buffer | null {
  return cfg.stream === undefined ? null : Buffer.from(`"stream":${JSON.stringify(cfg.stream)}`);
}

/**
 * JetStream async publisher: core PUBs with a reply inbox, in pre-encoded batches, keeping at most
 * `window` messages without an ack. Acks are classified (ok, error, misrouted), not parsed:
 * `received` counts OK acks only, so error acks never reach the rate.
 */
export const jsPub: RoleFactory = async (cfg, api) => {
  const { raw, box } = await connectWithInbox(cfg, 'ack');
  const frame = encodePub(cfg.subject, makePayload(cfg.payload), box);
  const full = repeatFrame(frame, cfg.batch);
  const mark = streamMark(cfg);
  const res = emptyResult(cfg);
  /** Every answer, OK or not: what the window and the tail wait count. */
  let answered = 0;
  let deadline = 0;
  let stopping = false;
  const { finish, finished } = roleFinisher(res, api, () => {
    raw.socket.destroy();
  });
  const pump = (): void => {
    while (!stopping) {
      if (res.sent >= cfg.maxMessages || nowMs() >= deadline) {
        stopping = true;
        break;
      }
      if (res.sent - answered + cfg.batch > cfg.window) break;
      const n = Math.min(cfg.batch, cfg.maxMessages - res.sent);
      raw.socket.write(n === cfg.batch ? full : repeatFrame(frame, n));
      res.sent += n;
    }
    if (stopping && answered >= res.sent) finish();
  };
  let sinceLast = 0;
  raw.scanner.handlers.onMsg = (_line, payload, hasHeaders) => {
    answered++;
    const t = nowMs();
    res.firstRecvAt ??= t;
    res.lastRecvAt = t;
    if (checkAck(res, payload, hasHeaders, mark) === 'ok') res.received++;
    // Refill once a whole batch fits again, not on every ack.
    if (++sinceLast >= cfg.batch || stopping) {
      sinceLast = 0;
      pump();
    }
  };
  finishOnDrop(raw.socket, res, finished, finish, 'publisher connection closed by the server');
  return {
    start() {
      res.startAt = nowMs();
      deadline = res.startAt + cfg.durationMs;
      pump();
      setTimeout(() => finish(), cfg.durationMs + TAIL_WAIT_MS).unref();
    },
    progress: () => ({ sent: res.sent, received: answered, disconnects: res.disconnects }),
    async stop() {
      stopping = true;
      finish();
      return res;
    },
  };
};

/** JetStream synchronous publisher: one publish in flight, latency of each OK ack (error acks are retried, not sampled). */
export const jsSync: RoleFactory = async (cfg, api) => {
  const { raw, box } = await connectWithInbox(cfg, 'sync');
  const frame = encodePub(cfg.subject, makePayload(cfg.payload), box);
  const res = emptyResult(cfg);
  const mark = streamMark(cfg);
  const loop = socketLoop(cfg, api, raw, frame, res);
  raw.scanner.handlers.onMsg = (_line, payload, hasHeaders) => {
    if (checkAck(res, payload, hasHeaders, mark) === 'ok') loop.reply();
    else if (res.errors + (res.misrouted ?? 0) >= MAX_LOOP_ERRORS) loop.end();
    else loop.retry();
  };
  return loopRole(loop, res, () => {
    loop.begin();
    setTimeout(() => loop.end(), cfg.durationMs + TAIL_WAIT_MS * 2).unref();
  });
};

/**
 * A durable fan-out: `cfg.connections` pull consumers (`<consumer>1`, `<consumer>2`, …) on one
 * stream, one connection each, each draining `maxMessages`; the result sums them (received is
 * every delivery, the span from the first start to the last end).
 */
export const jsConsumeFan: RoleFactory = async (cfg, api) => {
  const n = Math.max(1, cfg.connections);
  const done: RoleResult[] = [];
  const merge = (rs: RoleResult[]): RoleResult => {
    const r = emptyResult(cfg);
    const min = (xs: (number | null)[]): number | null =>
      xs.reduce<number | null>((a, x) => (x === null ? a : a === null ? x : Math.min(a, x)), null);
    const max = (xs: (number | null)[]): number | null =>
      xs.reduce<number | null>((a, x) => (x === null ? a : a === null ? x : Math.max(a, x)), null);
    for (const x of rs) {
      r.sent += x.sent;
      r.received += x.received;
      r.errors += x.errors;
      r.disconnects += x.disconnects;
      r.firstError ??= x.firstError;
      r.perConnection.push(x.received);
    }
    r.startAt = min(rs.map((x) => x.startAt));
    r.firstRecvAt = min(rs.map((x) => x.firstRecvAt));
    r.endAt = max(rs.map((x) => x.endAt));
    r.lastRecvAt = max(rs.map((x) => x.lastRecvAt));
    return r;
  };
  const roles = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      jsConsume(
        { ...cfg, role: 'js-consume', consumer: `${cfg.consumer ?? 'C'}${i + 1}`, label: `${cfg.label}${i + 1}` },
        {
          done: (r) => {
            done.push(r);
            if (done.length === n) api.done(merge(done));
          },
          measuring: () => undefined,
        },
      ),
    ),
  );
  return {
    start: () => roles.forEach((r) => r.start()),
    progress: () => {
      const p = { sent: 0, received: 0, disconnects: 0 };
      for (const r of roles) {
        const x = r.progress();
        p.sent += x.sent;
        p.received += x.received;
        p.disconnects += x.disconnects;
      }
      return p;
    },
    stop: async () => merge(await Promise.all(roles.map((r) => r.stop()))),
  };
};

/** Appends `PUB <reply> 0\r\n\r\n` (an ack) to out at pos; returns the new pos. */
function writeAck(out: Buffer, pos: number, line: Buffer, replyStart: number, replyEnd: number): number {
  let p = pos;
  out[p++] = 80; // P
  out[p++] = 85; // U
  out[p++] = 66; // B
  out[p++] = 32;
  p += line.copy(out, p, replyStart, replyEnd);
  out[p++] = 32;
  out[p++] = 48; // 0
  out[p++] = 13;
  out[p++] = 10;
  out[p++] = 13;
  out[p++] = 10;
  return p;
}

/** Index just past the n-th space-separated token start; returns [start, end) of token `k`. */
function tokenBounds(line: Buffer, k: number): [number, number] | null {
  let i = 0;
  let tok = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line[i] === 32) i++;
    const s = i;
    while (i < n && line[i] !== 32) i++;
    if (s < i) {
      if (tok === k) return [s, i];
      tok++;
    }
  }
  return null;
}

/**
 * JetStream pull consumer on a durable: keeps `window` messages requested (pulls of batch/2),
 * acks every message (`PUB $JS.ACK... 0`), all acks of one read in one write. Ends when
 * `maxMessages` arrived (the backlog) or the duration ran out, then flushes so every ack was
 * processed before reporting. With `cfg.deliver` it is a push consumer instead: it subscribes to
 * the deliver subject when the run starts, sends no pulls, and acks the same way.
 */
export const jsConsume: RoleFactory = async (cfg, api) => {
  const { raw, box } = await connectWithInbox(cfg, `pull.${cfg.consumer ?? ''}`);
  const push = cfg.deliver !== undefined;
  const pullSize = Math.max(1, Math.floor(cfg.batch / 2));
  // Pull requests outlive the run so none expires mid-measurement; the stream is deleted after.
  const expiresNs = (cfg.durationMs + 60_000) * 1e6;
  const pullBody = Buffer.from(JSON.stringify({ batch: pullSize, expires: expiresNs }));
  const pull = encodePub(`$JS.API.CONSUMER.MSG.NEXT.${cfg.stream}.${cfg.consumer}`, pullBody, box);
  const res = emptyResult(cfg);
  const ackBuf = Buffer.allocUnsafe(ACK_BUF_BYTES);
  let ackPos = 0;
  let sinceLastPull = 0;
  let deadline = 0;
  let stopping = false;
  const { finish, finished } = roleFinisher(res, api, () => {
    raw.socket.destroy();
  });
  const end = (): void => {
    if (stopping) return;
    stopping = true;
    if (ackPos > 0) raw.socket.write(Buffer.from(ackBuf.subarray(0, ackPos)));
    ackPos = 0;
    flushNats(raw, TAIL_WAIT_MS)
      .then(() => {
        res.lastRecvAt = nowMs();
        finish();
      })
      .catch(() => finish());
  };
  raw.scanner.handlers.onMsg = (line, _payload, hasHeaders) => {
    if (stopping) return;
    if (hasHeaders) {
      // 408/409 status for a pull request; a data message would carry its own subject's headers,
      // but the bench publishes none.
      res.errors++;
      res.firstError ??= line.toString('latin1');
      return;
    }
    const b = tokenBounds(line, 3); // MSG <subject> <sid> <reply> <size>
    if (b === null) return;
    if (ackPos + (b[1] - b[0]) + 16 > ACK_BUF_BYTES) {
      raw.socket.write(Buffer.from(ackBuf.subarray(0, ackPos)));
      ackPos = 0;
    }
    ackPos = writeAck(ackBuf, ackPos, line, b[0], b[1]);
    res.received++;
    sinceLastPull++;
  };
  const onData = (d: Buffer): void => {
    const before = res.received;
    raw.scanner.feed(d);
    if (res.received === before || stopping) return;
    const t = nowMs();
    res.firstRecvAt ??= t;
    let out: Buffer = Buffer.from(ackBuf.subarray(0, ackPos));
    ackPos = 0;
    while (!push && sinceLastPull >= pullSize) {
      sinceLastPull -= pullSize;
      out = Buffer.concat([out, pull]);
      res.sent++;
    }
    raw.socket.write(out);
    if (res.received >= cfg.maxMessages || t >= deadline) end();
  };
  raw.socket.removeAllListeners('data');
  raw.socket.on('data', onData);
  finishOnDrop(raw.socket, res, finished, finish, 'consumer connection closed by the server');
  return {
    start() {
      res.startAt = nowMs();
      deadline = res.startAt + cfg.durationMs;
      const pulls = push ? 0 : Math.max(1, Math.round(cfg.window / pullSize));
      const first: Buffer[] = [];
      for (let i = 0; i < pulls; i++) first.push(pull);
      res.sent += pulls;
      if (pulls > 0) raw.socket.write(Buffer.concat(first));
      // A push consumer delivers as soon as its subject has interest: subscribe only now.
      else raw.socket.write(encodeSub(cfg.deliver!, 2));
      // A backlog smaller than expected (or a silent server) must not hold the run.
      const timer = setInterval(() => {
        if (finished()) clearInterval(timer);
        else if (nowMs() >= deadline) {
          clearInterval(timer);
          end();
        }
      }, 100);
      timer.unref();
      setTimeout(() => finish(), cfg.durationMs + TAIL_WAIT_MS * 2).unref();
    },
    progress: () => ({ sent: res.sent, received: res.received, disconnects: res.disconnects }),
    async stop() {
      end();
      finish();
      return res;
    },
  };
};
