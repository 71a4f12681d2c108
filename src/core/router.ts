import { Client, Message, Subscription, type SubjectKind } from './message.js';
import { Sublist } from './sublist.js';
import { Backpressure } from './backpressure.js';
import type { SubjectMappings } from './mapping.js';

/**
 * Routes a published message to every matching subscription, whichever door (NATS, Redis,
 * internal) owns it: each plain subscription gets it, each queue group gives it to one member
 * chosen at random. Echo-off publishers are skipped. Costs one cached sublist look-up plus one
 * `deliver` call per recipient; the payload Buffer is shared, never copied.
 */
export class Router {
  readonly sublist = new Sublist();
  /** Who holds whom: doors report their current publisher and their outlets' pending bytes here. */
  readonly backpressure = new Backpressure();
  /** Messages and bytes routed in, and deliveries made, across the server. */
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  /** The account's subject mappings (src/core/mapping.ts), applied to clients' publishes; null = none. */
  mappings: SubjectMappings | null = null;

  /** Adds a subscription; `kind` says how `subject` is read (see SubjectKind for the rule). */
  subscribe(client: Client, subject: string, queue: string | null, sid: string, kind: SubjectKind = 'nats'): Subscription {
    const sub = new Subscription(client, subject, queue, sid, kind);
    this.sublist.insert(sub);
    return sub;
  }

  unsubscribe(sub: Subscription): void {
    if (!sub.closed) this.sublist.remove(sub);
  }

  /**
   * Where a client's publish to `subject` goes after the account's mappings: `subject` itself when
   * none applies, null when a weighted mapping drops it. nats-server maps a client's publish
   * before it checks the publish permission (client.go selectMappedSubject, then pubAllowed), so a
   * door checks the permission on this result and publishes to it.
   */
  mapPublish(subject: string): string | null {
    return this.mappings === null ? subject : this.mappings.map(subject);
  }

  /**
   * Delivers `msg` to every match; returns how many recipients took it (0 means no responders).
   * `from` is the publishing client, null for the server itself. The account's mappings are
   * not applied here: a door maps a client's publish first (mapPublish), because the publish
   * permission is the destination's.
   */
  publish(msg: Message, from: Client | null): number {
    const size = msg.payload.length + (msg.headers === null ? 0 : msg.headers.length);
    this.inMsgs++;
    this.inBytes += size;
    const r = this.sublist.match(msg.subject);
    let n = 0;
    const plain = r.plain;
    for (let i = 0; i < plain.length; i++) {
      const sub = plain[i];
      if (sub.closed) continue;
      if (from !== null && sub.client === from && !from.echo) continue;
      if (this.deliverTo(sub, msg)) n++;
    }
    const queues = r.queues;
    for (let q = 0; q < queues.length; q++) {
      const sub = pickMember(queues[q], from);
      if (sub !== null && this.deliverTo(sub, msg)) n++;
    }
    this.outMsgs += n;
    this.outBytes += n * size;
    return n;
  }

  private deliverTo(sub: Subscription, msg: Message): boolean {
    if (sub.client.deliver(sub, msg) === false) return false;
    sub.delivered++;
    if (sub.max > 0 && sub.delivered >= sub.max) this.unsubscribe(sub);
    return true;
  }
}

/** One live member of a queue group at random, avoiding an echo-off publisher's own subs. */
function pickMember(group: readonly Subscription[], from: Client | null): Subscription | null {
  const n = group.length;
  const start = (Math.random() * n) | 0;
  for (let k = 0; k < n; k++) {
    const sub = group[(start + k) % n];
    if (sub.closed) continue;
    if (from !== null && sub.client === from && !from.echo) continue;
    return sub;
  }
  return null;
}
