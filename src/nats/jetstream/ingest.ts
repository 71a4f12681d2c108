/**
 * The way messages get into a stream from any door: one internal router client per stream
 * subscribes the stream's subjects, so whatever publish reaches one of them (NATS today, the
 * Redis door later) is stored. For each message it strips the status from a NATS header block
 * (as nats-server stores inbound messages), parses the JetStream headers into expectations,
 * calls `Stream.append`, and publishes the JSON ack to the reply subject once the stream says
 * the record is durable. No reply (or a no_ack stream): stored without an ack and without waiting.
 * Costs per message: one `indexOf` for headers without `Nats-` (none without headers), the
 * append, and one ack Buffer; no closure and no timer.
 */
import type { Logger } from '../../core/log.js';
import type { Client, Message, Subscription } from '../../core/message.js';
import type { Router } from '../../core/router.js';
import type { AppendError } from '../../stream/errors.js';
import type { AppendAck, AppendDone, Stream } from '../../stream/stream.js';
import { PubAcks } from './acks.js';
import { parseExpectations, stripStatus } from './headers.js';

/**
 * One stream's subject subscriptions and ack publishing. `attach` subscribes, `sync` follows a
 * config update (subjects added or removed), `detach` unsubscribes; the stream itself is owned
 * by the set of streams, not by this.
 */
export class StreamIngest {
  private readonly subs: Subscription[] = [];
  private readonly client: Client;
  private readonly acks: PubAcks;
  private readonly onDone: AppendDone<string> = (reply, err, ack) => this.reply(reply, err, ack);

  constructor(
    private readonly router: Router,
    private readonly stream: Stream,
    logger: Logger,
  ) {
    this.acks = new PubAcks(stream.name);
    this.client = streamClient(stream, logger, 'JetStream publish failed', (msg) => this.onPublish(msg));
  }

  /** Subscribes every subject of the stream's config. */
  attach(): void {
    for (const subj of this.stream.cfg.subjects) this.add(subj);
  }

  /** Brings the subscriptions in line with the stream's current config (after an update). */
  sync(): void {
    const keep = new Set(this.stream.cfg.subjects);
    const had = new Set<string>();
    for (let i = this.subs.length - 1; i >= 0; i--) {
      const s = this.subs[i];
      had.add(s.subject);
      if (!keep.has(s.subject)) {
        this.router.unsubscribe(s);
        this.subs.splice(i, 1);
      }
    }
    for (const subj of this.stream.cfg.subjects) if (!had.has(subj)) this.add(subj);
  }

  detach(): void {
    for (const s of this.subs) this.router.unsubscribe(s);
    this.subs.length = 0;
  }

  private add(subject: string): void {
    this.subs.push(this.router.subscribe(this.client, subject, null, `stream:${this.stream.name}:${subject}`));
  }

  private onPublish(msg: Message): void {
    const s = this.stream;
    if (s.isClosed) return;
    const reply = s.cfg.no_ack ? '' : msg.reply;
    const hdr = msg.headers === null ? null : stripStatus(msg.headers);
    const exp = hdr === null ? null : parseExpectations(hdr);
    s.append(msg.subject, hdr, msg.payload, exp, reply, reply === '' ? null : this.onDone);
  }

  private reply(reply: string, err: AppendError | null, ack: AppendAck | null): void {
    const payload = err !== null ? this.acks.error(err) : this.acks.ok((ack as AppendAck).seq, (ack as AppendAck).duplicate);
    this.router.publish({ subject: reply, reply: '', headers: null, payload }, null);
  }
}

/**
 * An internal router client serving one stream: `handle` runs for each message; a throw is
 * logged with `failure` and never reaches the publisher's read loop (Client contract).
 */
export function streamClient(stream: Stream, logger: Logger, failure: string, handle: (msg: Message) => void): Client {
  return {
    id: 0,
    echo: true,
    internal: true,
    deliver: (_sub: Subscription, msg: Message): boolean => {
      try {
        handle(msg);
      } catch (err) {
        logger.error({ stream: stream.name, err: (err as Error).message }, failure);
      }
      return true;
    },
  };
}
