/**
 * A message as the router sees it, whichever door it came through. `headers` is the raw NATS
 * header block (`NATS/1.0…\r\n…\r\n\r\n`) or null; `payload` is usually a view into the reader's
 * Buffer, so a consumer that keeps a message past the current turn must copy it
 * (`retainMessage`). Costs nothing to create: no copy, no parse.
 */
export interface Message {
  subject: string;
  /** Reply subject, or '' when there is none. */
  reply: string;
  headers: Buffer | null;
  payload: Buffer;
}

/** Returns a copy of `m` that owns its bytes, safe to keep after the current turn. */
export function retainMessage(m: Message): Message {
  return {
    subject: m.subject,
    reply: m.reply,
    headers: m.headers === null ? null : Buffer.from(m.headers),
    payload: Buffer.from(m.payload),
  };
}

/**
 * Whoever owns subscriptions: a network connection, or an internal service such as a stream or
 * the JetStream API. `deliver` must not throw and must not block; a connection queues bytes.
 */
export interface Client {
  /** Unique per server; 0 is reserved for internal clients. */
  readonly id: number;
  /** False when the client asked not to receive its own publishes (CONNECT echo:false). */
  readonly echo: boolean;
  /** Hands one message to the client for subscription `sub`. Returning false means "not served
   * after all" (an internal client declining a subject), which counts toward no-responders. */
  deliver(sub: Subscription, msg: Message): boolean | void;
  /** For internal clients: true means "I really serve this subject" (no-responders). */
  readonly internal?: boolean;
}

/**
 * How a subscription's subject is read — the rule every door follows (src/core/sublist.ts):
 * - `nats`: a NATS subject pattern, `.`-separated tokens where a whole `*` token matches one token
 *   and a last `>` token one or more (nats-server sublist.go). The door has validated it.
 * - `literal`: an exact channel name, equal byte for byte (as JS strings) to the published
 *   subject; `a.*`, `a b`, `a..b` are just names (Redis SUBSCRIBE).
 * - `glob`: a Redis glob (`*`, `?`, `[…]`, `\`), matched against the whole published subject
 *   (Redis PSUBSCRIBE, util.c `stringmatchlen`; src/core/glob.ts).
 *
 * A published subject reaches `nats` subscriptions only when it could travel as a NATS subject:
 * no empty token and no whitespace. Any subject reaches `literal` and `glob` subscriptions. A
 * published subject that holds a `*` or `>` token is matched by `nats` patterns as nats-server
 * does (a `*` token is matched by `*` and `>` patterns, not by a literal token) — the differential
 * test "pedantic PUB foo.*" pins that. So a Redis channel `a.*` (literal) and a NATS `a.*`
 * (pattern) coexist: a publish to `a.b` reaches the pattern only, a publish to `a.*` both.
 */
export type SubjectKind = 'nats' | 'literal' | 'glob';

/**
 * One subscription: subject (a pattern or a name, read per `kind`), optional queue group, the
 * owner's id for it (`sid`), and an optional auto-unsubscribe count. Mutable counters live here so
 * delivery needs no map look-up.
 */
export class Subscription {
  /** Deliveries so far. */
  delivered = 0;
  /** Auto-unsubscribe after this many deliveries in total; 0 = never. */
  max = 0;
  /** Set once removed from the sublist, so a cached match result can skip it. */
  closed = false;
  /**
   * A door's cached encoding of the delivery line prefix for the last subject delivered here
   * (e.g. NATS ` <subject> <sid> `): a subscription mostly sees one subject, so the prefix is
   * encoded once instead of once per message.
   */
  wireSubject: string | null = null;
  wirePrefix: Buffer | null = null;

  constructor(
    readonly client: Client,
    readonly subject: string,
    readonly queue: string | null,
    readonly sid: string,
    readonly kind: SubjectKind = 'nats',
  ) {}
}
