/**
 * The system account's client events, in nats-server's JSON (events.go, accountConnectEvent and
 * accountDisconnectEvent; ConnectEventMsg / DisconnectEventMsg): `$SYS.ACCOUNT.<acc>.CONNECT`
 * and `.DISCONNECT`, and the account's connection count (events.go sendAccConnsUpdate,
 * AccountNumConns) on `$SYS.ACCOUNT.<acc>.SERVER.CONNS` and the older
 * `$SYS.SERVER.ACCOUNT.<acc>.CONNS`, published into the system account's router only, so only
 * users of that account can see them. An event is built only when someone in the system account
 * listens. Every message the system account sends carries the same server block with one
 * sequence (nats-server ServerInfo `seq`).
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
/** nats-server AccountNumConnsMsgType. */
const CONNS_TYPE = 'io.nats.server.advisory.v1.account_connections';

/** nats-server AccountStat: one account's connections and traffic, for CONNS events and STATZ. */
export interface AccountStat {
  acc: string;
  conns: number;
  leafnodes: number;
  total_conns: number;
  sent: { msgs: number; bytes: number };
  received: { msgs: number; bytes: number };
  slow_consumers: number;
}

/** One account's AccountStat; `conns(name)` counts its open client connections. */
export function accountStat(accounts: AccountSet, name: string, conns: (account: string) => number): AccountStat | null {
  const acc = accounts.get(name);
  if (acc === undefined) return null;
  const r = acc.router;
  const n = conns(name);
  return {
    acc: name,
    conns: n,
    leafnodes: 0,
    total_conns: n,
    sent: { msgs: r.outMsgs, bytes: r.outBytes },
    received: { msgs: r.inMsgs, bytes: r.inBytes },
    slow_consumers: 0,
  };
}

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
    /** Open client connections of an account (for CONNS); none counted when not given. */
    private readonly conns: (account: string) => number = () => 0,
  ) {}

  connected(c: EventClient): void {
    // nats-server accounts.go addClient sends the count before the connect event.
    this.connsUpdate(c.account);
    this.emit(c, 'CONNECT', () => ({ type: CONNECT_TYPE, ...this.head(), client: this.client(c, false) }));
  }

  disconnected(c: EventClient): void {
    // nats-server accounts.go removeClient: no count update for the global account.
    if (c.account !== '$G') this.connsUpdate(c.account);
    this.emit(c, 'DISCONNECT', () => ({
      type: DISCONNECT_TYPE,
      ...this.head(),
      client: this.client(c, true),
      sent: { msgs: c.outMsgs, bytes: c.outBytes },
      received: { msgs: c.inMsgs, bytes: c.inBytes },
      reason: c.closeReason ?? '',
    }));
  }

  /** AccountNumConns for `account` on both CONNS subjects (events.go accConnsUpdate), if anyone listens. */
  connsUpdate(account: string): void {
    this.publish(`$SYS.SERVER.ACCOUNT.${account}.CONNS`, () => this.connsEvent(account));
    this.publish(`$SYS.ACCOUNT.${account}.SERVER.CONNS`, () => this.connsEvent(account));
  }

  /** nats-server AccountNumConns for `account`, or null when there is no such account. */
  connsEvent(account: string): object | null {
    const stat = accountStat(this.accounts, account, this.conns);
    return stat === null ? null : { type: CONNS_TYPE, ...this.head(), ...stat };
  }

  /** True when someone in the system account listens on `subject`. */
  listened(subject: string): boolean {
    const m = this.accounts.system.router.sublist.match(subject);
    return m.plain.length > 0 || m.queues.length > 0;
  }

  /** Publishes `body()` as JSON on `subject` in the system account, only if someone listens (null = nothing to send). */
  publish(subject: string, body: () => object | null, reply = ''): void {
    if (!this.listened(subject)) return;
    const b = body();
    if (b === null) return;
    this.accounts.system.router.publish({ subject, reply, headers: null, payload: Buffer.from(JSON.stringify(b)) }, null);
  }

  private emit(c: EventClient, what: string, body: () => object): void {
    this.publish(`$SYS.ACCOUNT.${c.account}.${what}`, body);
  }

  /** nats-server ServerInfo: the server block every system message carries, with the next sequence. */
  serverInfo(now = goTime(ms2ns(Date.now()))): object {
    const { name, host, id, ver, jetstream } = this.server();
    return { name, host, id, ver, seq: ++this.seq, jetstream, time: now };
  }

  private head(): { id: string; timestamp: string; server: object } {
    const now = goTime(ms2ns(Date.now()));
    return { id: eventId(), timestamp: now, server: this.serverInfo(now) };
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
