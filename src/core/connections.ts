/**
 * The connection registry: every door (NATS today, Redis later) registers the client connections
 * it accepts here, so monitoring (`/varz`, `/connz`) sees all of them through one narrow view and
 * never imports a door. Connection ids come from here, so they are unique across doors.
 */
import type { Subscription } from './message.js';

/** Closed connections kept for `/connz?state=closed` (nats-server keeps 10,000; a Node heap is smaller). */
export const CLOSED_RING = 256;

/**
 * What monitoring reads of one open connection, whichever door accepted it. Everything is read
 * live when a monitoring request comes, so keeping these fields current must cost the door no
 * more than a counter increment.
 */
export interface ConnectionView {
  readonly id: number;
  readonly ip: string;
  readonly port: number;
  /** Epoch ms when the connection was accepted, and when it last sent bytes. */
  readonly start: number;
  readonly lastActivity: number;
  /** From the client's handshake ('' when it sent none). */
  readonly name: string;
  readonly lang: string;
  readonly version: string;
  /** The authenticated user name or nkey (/connz?auth=true); absent or '' without one. */
  readonly authUser?: string;
  /** The account the connection is bound to; absent = `$G`. */
  readonly account?: string;
  /** Outbound bytes queued and not yet taken by the kernel. */
  readonly pendingBytes: number;
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
  /** Last measured round-trip time in milliseconds (server PING → client PONG); 0 = not yet. */
  readonly rttMs: number;
  /** The negotiated TLS version ("1.3") and cipher suite (IANA name); absent for plaintext. */
  readonly tls?: { readonly version: string; readonly cipher: string } | null;
  /** The connection's subscriptions by its own id for them (NATS sid, Redis channel…). */
  readonly subs: ReadonlyMap<string, Subscription>;
}

/** What `/connz?state=closed` reports for a connection that has closed: a snapshot at close. */
export interface ClosedConnection {
  cid: number;
  /** The door that accepted it: 'nats', later 'redis'. */
  type: string;
  ip: string;
  port: number;
  start: number;
  stop: number;
  reason: string;
  name: string;
  lang: string;
  version: string;
  rttMs: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  /** The account it was bound to; absent = `$G`. */
  account?: string;
}

/** One open connection as registered: the live view and the door that owns it. */
export interface RegisteredConnection {
  readonly type: string;
  readonly conn: ConnectionView;
}

/**
 * Open connections of every door, a bounded ring of recently closed ones, and the id counter.
 * Guarantees: ids are unique per registry and never reused; `closed` holds at most CLOSED_RING
 * entries, oldest first. Costs one Map insert per accept and one small object per close.
 */
export class ConnectionRegistry {
  readonly open = new Map<number, RegisteredConnection>();
  readonly closed: ClosedConnection[] = [];
  /** Connections ever registered. */
  total = 0;
  private lastId = 0;

  /** A fresh connection id (1, 2, …). */
  nextId(): number {
    return ++this.lastId;
  }

  /** Registers an accepted connection of door `type`. */
  add(type: string, conn: ConnectionView): void {
    this.open.set(conn.id, { type, conn });
    this.total++;
  }

  /** Moves a connection to the closed ring; returns false when it was not registered (or already removed). */
  remove(conn: ConnectionView, reason: string): boolean {
    const entry = this.open.get(conn.id);
    if (entry === undefined || entry.conn !== conn) return false;
    this.open.delete(conn.id);
    this.closed.push({
      cid: conn.id,
      type: entry.type,
      ip: conn.ip,
      port: conn.port,
      start: conn.start,
      stop: Date.now(),
      reason,
      name: conn.name,
      lang: conn.lang,
      version: conn.version,
      rttMs: conn.rttMs,
      in_msgs: conn.inMsgs,
      out_msgs: conn.outMsgs,
      in_bytes: conn.inBytes,
      out_bytes: conn.outBytes,
      ...(conn.account !== undefined ? { account: conn.account } : {}),
    });
    if (this.closed.length > CLOSED_RING) this.closed.shift();
    return true;
  }
}
