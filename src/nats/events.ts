/**
 * The system account's client events, in nats-server's JSON (events.go, accountConnectEvent and
 * accountDisconnectEvent; ConnectEventMsg / DisconnectEventMsg): `$SYS.ACCOUNT.<acc>.CONNECT`
 * and `.DISCONNECT`, published into the system account's router only, so only users of that
 * account can see them. An event is built only when someone in the system account listens.
 */
import { randomBytes } from 'node:crypto';
import type { AccountSet } from '../core/accounts.js';
import { goTime } from './jetstream/gotime.js';

/** What an event says about a client; NatsConnection is one. */
export interface EventClient {
  readonly id: number;
  readonly start: number;
  readonly ip: string;
  readonly account: string;
  readonly authUser: string;
  readonly name: string;
  readonly lang: string;
  readonly version: string;
  readonly rttMs: number;
  readonly inMsgs: number;
  readonly inBytes: number;
  readonly outMsgs: number;
  readonly outBytes: number;
  readonly closeReason: string | null;
}

/** Server identity as events carry it (nats-server ServerInfo). */
export interface EventServer {
  readonly name: string;
  readonly host: string;
  readonly id: string;
  readonly ver: string;
  readonly jetstream: boolean;
}

/** nats-server connectEventMsgType / disconnectEventMsgType. */
const CONNECT_TYPE = 'io.nats.server.advisory.v1.client_connect';
const DISCONNECT_TYPE = 'io.nats.server.advisory.v1.client_disconnect';

const ms2ns = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/**
 * Publishes connect/disconnect events for every account's clients into the system account.
 * Costs one sublist look-up per connect and disconnect; JSON only when there are listeners.
 */
export class SystemEvents {
  private seq = 0;

  constructor(
    private readonly accounts: AccountSet,
    private readonly server: () => EventServer,
  ) {}

  connected(c: EventClient): void {
    this.emit(c, 'CONNECT', () => ({ type: CONNECT_TYPE, ...this.head(), client: this.client(c, false) }));
  }

  disconnected(c: EventClient): void {
    this.emit(c, 'DISCONNECT', () => ({
      type: DISCONNECT_TYPE,
      ...this.head(),
      client: this.client(c, true),
      sent: { msgs: c.outMsgs, bytes: c.outBytes },
      received: { msgs: c.inMsgs, bytes: c.inBytes },
      reason: c.closeReason ?? '',
    }));
  }

  private emit(c: EventClient, what: string, body: () => object): void {
    const router = this.accounts.system.router;
    const subject = `$SYS.ACCOUNT.${c.account}.${what}`;
    const m = router.sublist.match(subject);
    if (m.plain.length === 0 && m.queues.length === 0) return;
    router.publish({ subject, reply: '', headers: null, payload: Buffer.from(JSON.stringify(body())) }, null);
  }

  private head(): { id: string; timestamp: string; server: object } {
    const now = goTime(ms2ns(Date.now()));
    const { name, host, id, ver, jetstream } = this.server();
    return { id: eventId(), timestamp: now, server: { name, host, id, ver, seq: ++this.seq, jetstream, time: now } };
  }

  /** nats-server ClientInfo, with its omitempty fields left out when empty. */
  private client(c: EventClient, closing: boolean): object {
    const o: Record<string, unknown> = { start: goTime(ms2ns(c.start)), host: c.ip, id: c.id, acc: c.account };
    if (c.authUser !== '') o.user = c.authUser;
    if (c.name !== '') o.name = c.name;
    if (c.lang !== '') o.lang = c.lang;
    if (c.version !== '') o.ver = c.version;
    if (closing) {
      if (c.rttMs > 0) o.rtt = Number(ms2ns(c.rttMs));
      o.stop = goTime(ms2ns(Date.now()));
    }
    o.kind = 'Client';
    o.client_type = 'nats';
    return o;
  }
}

/** A 22-character event id, as nats-server's nuid-based ids look. */
function eventId(): string {
  return randomBytes(16).toString('base64url').replace(/[-_]/g, 'x').slice(0, 22);
}
