/**
 * Setup and checks around the measured runs (not the hot path): JetStream API requests over a raw
 * NATS connection, `/varz` from a monitoring port, and plain Redis commands.
 */
import { connectNats, encodePub, encodeSub, flushNats, lineTokens, type RawNats } from './lib/nats-wire.js';

/** How long one admin request may take, ms. */
const ADMIN_TIMEOUT_MS = 10_000;

/** A JetStream API reply: the JSON body, or the status line when the server sent only headers. */
export interface ApiReply {
  json: Record<string, unknown> | null;
  status: string | null;
}

/** A raw NATS connection for JetStream API requests, one at a time. */
export class NatsAdmin {
  private seq = 0;
  private waiting: { subject: string; resolve: (r: ApiReply) => void } | null = null;

  private constructor(private readonly raw: RawNats) {
    raw.scanner.handlers.onMsg = (line, payload, hasHeaders) => {
      const tok = lineTokens(line);
      const w = this.waiting;
      if (!w || tok[1] !== w.subject) return;
      this.waiting = null;
      let body = payload;
      let status: string | null = null;
      if (hasHeaders) {
        const hdrLen = Number(tok[tok.length - 2]);
        const head = payload.subarray(0, hdrLen).toString('utf8');
        status = head.split('\r\n', 1)[0]?.replace(/^NATS\/1\.0\s*/, '') ?? null;
        body = payload.subarray(hdrLen);
      }
      let json: Record<string, unknown> | null = null;
      if (body.length > 0) {
        try {
          json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          json = null;
        }
      }
      w.resolve({ json, status: status || null });
    };
  }

  /** Connects and subscribes to its inbox. */
  static async connect(url: string): Promise<NatsAdmin> {
    const raw = await connectNats(url, 'herald-bench-admin', ADMIN_TIMEOUT_MS);
    raw.socket.write(encodeSub(`_INBOX.benchadmin.${process.pid}.*`, 1));
    await flushNats(raw, ADMIN_TIMEOUT_MS);
    return new NatsAdmin(raw);
  }

  /** The server's INFO from the handshake. */
  get info(): Record<string, unknown> {
    return this.raw.info;
  }

  /** Sends a request and waits for its reply (null on timeout). */
  request(subject: string, body: unknown, timeoutMs = ADMIN_TIMEOUT_MS): Promise<ApiReply | null> {
    const reply = `_INBOX.benchadmin.${process.pid}.${++this.seq}`;
    const payload = Buffer.from(body === undefined ? '' : JSON.stringify(body));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve(null);
      }, timeoutMs);
      this.waiting = {
        subject: reply,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.raw.socket.write(encodePub(subject, payload, reply));
    });
  }

  /** Closes the connection. */
  close(): void {
    this.raw.socket.destroy();
  }
}

/** Why a JetStream API call failed, or null when it succeeded. */
export function apiError(r: ApiReply | null): string | null {
  if (r === null) return 'no reply from the JetStream API';
  if (r.status !== null && r.json === null) return `status ${r.status}`;
  const err = r.json?.['error'] as { description?: string; code?: number } | undefined;
  if (err) return `${err.code ?? ''} ${err.description ?? JSON.stringify(err)}`.trim();
  if (r.json === null) return 'unreadable JetStream API reply';
  return null;
}

/** Creates a file-backed stream on `subjects` (no limits: the run itself is bounded). */
export async function createStream(admin: NatsAdmin, name: string, subjects: string[]): Promise<string | null> {
  const cfg = { name, subjects, storage: 'file', retention: 'limits', discard: 'old', num_replicas: 1 };
  return apiError(await admin.request(`$JS.API.STREAM.CREATE.${name}`, cfg));
}

/** Deletes a stream; a missing stream is not an error. */
export async function deleteStream(admin: NatsAdmin, name: string): Promise<void> {
  await admin.request(`$JS.API.STREAM.DELETE.${name}`, undefined);
}

/** The stream's message count, or null. */
export async function streamMessages(admin: NatsAdmin, name: string): Promise<number | null> {
  const r = await admin.request(`$JS.API.STREAM.INFO.${name}`, undefined);
  const state = r?.json?.['state'] as { messages?: number } | undefined;
  return typeof state?.messages === 'number' ? state.messages : null;
}

/** Creates a durable consumer with explicit acks, delivering everything from the start: a pull
 * consumer, or a push consumer when `deliverSubject` is given. */
export async function createConsumer(
  admin: NatsAdmin,
  stream: string,
  durable: string,
  deliverSubject?: string,
): Promise<string | null> {
  const body = {
    stream_name: stream,
    config: {
      durable_name: durable,
      ack_policy: 'explicit',
      deliver_policy: 'all',
      max_ack_pending: 20_000,
      ...(deliverSubject === undefined ? {} : { deliver_subject: deliverSubject }),
    },
  };
  return apiError(await admin.request(`$JS.API.CONSUMER.CREATE.${stream}.${durable}`, body));
}

/** A consumer's ack state after a run. */
export interface ConsumerState {
  ackFloor: number;
  ackPending: number;
  pending: number;
}

/** Reads a consumer's ack floor (stream seq), acks pending and messages still pending. */
export async function consumerState(admin: NatsAdmin, stream: string, durable: string): Promise<ConsumerState | null> {
  const r = await admin.request(`$JS.API.CONSUMER.INFO.${stream}.${durable}`, undefined);
  const j = r?.json;
  if (!j || j['error']) return null;
  const floor = j['ack_floor'] as { stream_seq?: number } | undefined;
  return {
    ackFloor: Number(floor?.stream_seq ?? 0),
    ackPending: Number(j['num_ack_pending'] ?? 0),
    pending: Number(j['num_pending'] ?? 0),
  };
}

/** `slow_consumers` from a nats-server-style `/varz`, or null when unreachable. */
export async function varzSlowConsumers(monitorUrl: string | null): Promise<number | null> {
  if (!monitorUrl) return null;
  try {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 3000);
    const r = await fetch(`${monitorUrl.replace(/\/$/, '')}/varz`, { signal: ctl.signal });
    clearTimeout(timer);
    if (!r.ok) return null;
    const j = (await r.json()) as { slow_consumers?: number };
    return typeof j.slow_consumers === 'number' ? j.slow_consumers : null;
  } catch {
    return null;
  }
}
