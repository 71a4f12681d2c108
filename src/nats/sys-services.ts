/**
 * The system account's request services, as nats-server 2.9 answers them (events.go,
 * initEventTracking, zReq, statszReq, connsRequest): monitoring over NATS for tools such as
 * `nats server list|info|report`. Subscribed in the system account's router only, so only users
 * of the system account can ask.
 *
 *   $SYS.REQ.SERVER.PING                       STATSZ of every server (here: this one)
 *   $SYS.REQ.SERVER.PING.<K>, .<server-id>.<K>  K = STATSZ VARZ CONNZ SUBSZ JSZ HEALTHZ ACCOUNTZ, IDZ (2.10)
 *                                              (ROUTEZ GATEWAYZ LEAFZ answer empty: no cluster)
 *   $SYS.REQ.ACCOUNT.<acc>.<K>                 K = CONNZ SUBSZ INFO JSZ STATZ CONNS LEAFZ
 *   $SYS.REQ.ACCOUNT.PING.STATZ, .PING.CONNZ
 *
 * Users of every other account may ask `$SYS.REQ.SERVER.PING.CONNZ`, `$SYS.REQ.ACCOUNT.PING.CONNZ`
 * and `.PING.STATZ` about their own account, as through nats-server's system imports.
 *
 * The request body is the endpoint's options as JSON (`{"subscriptions": true}`, nats-server's
 * ConnzOptions etc. field names) plus the event filter (`server_name`, `host`, `cluster`, `tags`,
 * `domain`: a request that does not name this server gets no reply). The reply is nats-server's
 * ServerAPIResponse `{"server": {...}, "data": {...}}`, or `"error": {code, description}`. The
 * data comes from the same builders as the HTTP endpoints (src/http/endpoints.ts, accountz.ts).
 * Also sends the periodic `$SYS.SERVER.<id>.STATSZ` heartbeat and the accounts' CONNS heartbeat.
 * Costs nothing on the message path; two timers, and a request's work only when asked.
 */
import os from 'node:os';
import type { Client, Message, Subscription } from '../core/message.js';
import type { Account, AccountSet } from '../core/accounts.js';
import type { Router } from '../core/router.js';
import {
  buildConnz,
  buildHealthz,
  buildJsz,
  buildSubsz,
  buildVarz,
  jetStreamVarz,
  type HttpListenerView,
} from '../http/endpoints.js';
import { accountConnections, accountInfo, buildAccountz, routerTotals } from '../http/accountz.js';
import { MonitorQueryError } from '../http/monitor.js';
import type { MonitoredServer } from '../http/stats.js';
import { CpuSampler } from '../http/cpu.js';
import { accountStat, type SystemEvents } from './events.js';

/** First STATSZ heartbeat after start; nats-server startStatszTimer sends early, then backs off. */
const STATSZ_FIRST_MS = 250;
/** Longest gap between STATSZ heartbeats and between an account's CONNS updates (nats-server eventsHBInterval). */
export const EVENTS_HB_INTERVAL_MS = 30_000;

/** The system services every other account imports (nats-server registerSystemImports). */
const SYSTEM_IMPORTS = ['$SYS.REQ.SERVER.PING.CONNZ', '$SYS.REQ.ACCOUNT.PING.CONNZ', '$SYS.REQ.ACCOUNT.PING.STATZ'];

/** What the services read of the server: the monitoring view plus its accounts and monitoring listener. */
export interface SysServer extends MonitoredServer {
  readonly accounts: AccountSet;
  /** The monitoring listener, for VARZ's ports and request counts; null when it is off. */
  monitorView(): HttpListenerView | null;
}

type Options = Record<string, unknown>;
type Builder = (o: Options) => object;

/** An error answered as ServerAPIResponse `error` (400 for a body that does not parse, else 500). */
class ZError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** URLSearchParams from a JSON options object: `pairs` maps JSON field → query key (booleans → "true"). */
function query(o: Options, pairs: Record<string, string>): URLSearchParams {
  const q = new URLSearchParams();
  for (const [field, key] of Object.entries(pairs)) {
    const v = o[field];
    if (v === undefined || v === null || v === false || v === '' || v === 0) continue;
    q.set(key, String(v));
  }
  return q;
}

/** nats-server ConnState (0 open, 1 closed, 2 all) as /connz's `state`. */
const CONN_STATE = ['open', 'closed', 'any'];

/** ConnzOptions (monitor.go) as /connz's query. */
function connzQuery(o: Options): URLSearchParams {
  const q = query(o, { auth: 'auth', offset: 'offset', limit: 'limit', cid: 'cid', acc: 'acc', sort: 'sort' });
  if (o.subscriptions_detail === true) q.set('subs', 'detail');
  else if (o.subscriptions === true) q.set('subs', '1');
  if (typeof o.state === 'number' && CONN_STATE[o.state] !== undefined) q.set('state', CONN_STATE[o.state]!);
  return q;
}

/** SubszOptions as /subsz's query. */
const subszQuery = (o: Options): URLSearchParams =>
  query(o, { subscriptions: 'subs', offset: 'offset', limit: 'limit', account: 'acc', test: 'test' });

/** JSzOptions as /jsz's query. */
const jszQuery = (o: Options): URLSearchParams =>
  query(o, {
    account: 'acc',
    accounts: 'accounts',
    streams: 'streams',
    consumer: 'consumers',
    config: 'config',
    offset: 'offset',
    limit: 'limit',
  });

/** Answers the system account's `$SYS.REQ.>` requests and sends its heartbeats. */
export class SysServices {
  private readonly subs: Subscription[] = [];
  /** The subscriptions behind other accounts' system imports. */
  private readonly imports: [Router, Subscription][] = [];
  private readonly cpu = new CpuSampler();
  private statszTimer: NodeJS.Timeout | null = null;
  private statszEvery = STATSZ_FIRST_MS;
  private connsTimer: NodeJS.Timeout | null = null;
  private readonly server: Record<string, Builder>;

  constructor(
    private readonly s: SysServer,
    private readonly events: SystemEvents,
  ) {
    const head = (): Options => ({ server_id: s.serverId, now: new Date().toISOString() });
    this.server = {
      STATSZ: () => this.statsz(),
      VARZ: () => buildVarz(s, s.monitorView(), this.cpu),
      CONNZ: (o) => buildConnz(s, connzQuery(o)),
      SUBSZ: (o) => this.subsz(subszQuery(o)),
      JSZ: (o) => buildJsz(s, jszQuery(o)),
      HEALTHZ: () => buildHealthz(),
      ACCOUNTZ: (o) => ({
        ...head(),
        ...buildAccountz(s.accounts, s.connections, (a) => s.jetstreams?.has(a) === true, query(o, { account: 'acc' })),
      }),
      // A standalone server: no routes, gateways or leaf nodes (nats-server's empty answers).
      ROUTEZ: () => ({ ...head(), num_routes: 0, routes: [] }),
      GATEWAYZ: () => ({ ...head(), outbound_gateways: {}, inbound_gateways: {} }),
      LEAFZ: () => ({ ...head(), leafnodes: 0, leafs: null }),
    };
  }

  /** Subscribes the services in the system account and starts the heartbeats. */
  start(): void {
    const router = this.s.accounts.system.router;
    const client = (on: (msg: Message) => void): Client => ({
      id: 0,
      echo: true,
      internal: true,
      deliver: (_sub, msg) => {
        on(msg);
        return true;
      },
    });
    this.subs.push(
      router.subscribe(
        client((m) => this.onServer(m)),
        '$SYS.REQ.SERVER.>',
        null,
        'sys:server',
      ),
    );
    this.subs.push(
      router.subscribe(
        client((m) => this.onAccount(m)),
        '$SYS.REQ.ACCOUNT.>',
        null,
        'sys:account',
      ),
    );
    for (const acc of this.s.accounts.byName.values()) if (acc !== this.s.accounts.system) this.importInto(acc);
    this.scheduleStatsz();
    this.connsTimer = setInterval(() => this.connsHeartbeat(), EVENTS_HB_INTERVAL_MS);
    this.connsTimer.unref();
  }

  stop(): void {
    const router = this.s.accounts.system.router;
    for (const sub of this.subs) router.unsubscribe(sub);
    this.subs.length = 0;
    for (const [r, sub] of this.imports) r.unsubscribe(sub);
    this.imports.length = 0;
    if (this.statszTimer !== null) clearTimeout(this.statszTimer);
    if (this.connsTimer !== null) clearInterval(this.connsTimer);
    this.statszTimer = this.connsTimer = null;
  }

  /** nats-server heartbeatStatsz: 250 ms after start, doubling up to EVENTS_HB_INTERVAL_MS. */
  private scheduleStatsz(): void {
    this.statszTimer = setTimeout(() => {
      this.statszEvery = Math.min(this.statszEvery * 2, EVENTS_HB_INTERVAL_MS);
      this.events.publish(`$SYS.SERVER.${this.s.serverId}.STATSZ`, () => this.statszMsg());
      this.scheduleStatsz();
    }, this.statszEvery);
    this.statszTimer.unref();
  }

  /** nats-server accConnsUpdate timers: every account with clients re-announces its count. */
  private connsHeartbeat(): void {
    for (const name of this.s.accounts.byName.keys()) {
      if (accountConnections(this.s.connections, name) > 0) this.events.connsUpdate(name);
    }
  }

  /** `$SYS.REQ.SERVER.PING` and `$SYS.REQ.SERVER.<PING|id>.<K>`. */
  private onServer(msg: Message): void {
    const t = msg.subject.split('.');
    if (t.length === 4 && t[3] === 'PING') {
      this.statszReq(msg);
      return;
    }
    if (t.length !== 5 || (t[3] !== 'PING' && t[3] !== this.s.serverId)) return;
    const kind = t[4]!;
    if (kind === 'STATSZ') {
      this.statszReq(msg);
      return;
    }
    if (kind === 'IDZ') {
      // nats-server 2.10 events.go idzReq (herald advertises 2.10): the bare ServerID, no envelope.
      const o = this.s.options;
      if (msg.reply !== '')
        this.reply(msg.reply, this.s.accounts.system.router, {
          name: o.serverName || this.s.serverId,
          host: o.host,
          id: this.s.serverId,
        });
      return;
    }
    const build = Object.hasOwn(this.server, kind) ? this.server[kind] : undefined;
    if (build !== undefined) this.zReq(msg, build);
  }

  /** `$SYS.REQ.ACCOUNT.<acc|PING>.<K>` (events.go monAccSrvc, accPingReqSubj). */
  private onAccount(msg: Message, to: Router = this.s.accounts.system.router): void {
    const t = msg.subject.split('.');
    if (t.length !== 5) return;
    const acc = t[3]!;
    const kind = t[4]!;
    const s = this.s;
    const head = (): Options => ({ server_id: s.serverId, now: new Date().toISOString() });
    const conns = (a: string): number => accountConnections(s.connections, a);
    if (kind === 'CONNS') {
      this.connsReq(msg, acc);
      return;
    }
    if (kind === 'STATZ') {
      // PING.STATZ: every account with clients (or those named); <acc>.STATZ: that one. No reply when empty.
      this.zReq(
        msg,
        (o) => {
          const named = acc === 'PING' ? (Array.isArray(o.accounts) ? o.accounts.map(String) : []) : [acc];
          const names = named.length > 0 ? named : [...s.accounts.byName.keys()];
          const stats = names
            .map((n) => accountStat(s.accounts, n, conns))
            .filter((st) => st !== null && (o.include_unused === true || st.conns > 0));
          if (stats.length === 0) return null;
          return { ...head(), account_statz: stats };
        },
        to,
      );
      return;
    }
    // PING.CONNZ: the asker's own account (each account imports it from the system account).
    const name = acc === 'PING' && kind === 'CONNZ' ? s.accounts.system.name : acc;
    if (acc === 'PING' && kind !== 'CONNZ') return;
    const builders: Record<string, Builder> = {
      CONNZ: (o) => buildConnz(s, withParam(connzQuery(o), 'acc', name)),
      SUBSZ: (o) => this.subsz(withParam(withParam(subszQuery(o), 'acc', name), 'subs', '1')),
      INFO: () => accountInfo(s.accounts, s.connections, (a) => s.jetstreams?.has(a) === true, name),
      JSZ: (o) => this.accountJsz(name, o),
      LEAFZ: () => ({ ...head(), leafnodes: 0, leafs: null }),
    };
    const build = Object.hasOwn(builders, kind) ? builders[kind] : undefined;
    if (build !== undefined) this.zReq(msg, build, to);
  }

  /**
   * What every other account imports from the system account (nats-server events.go,
   * registerSystemImports): its users may ask `$SYS.REQ.SERVER.PING.CONNZ` or
   * `$SYS.REQ.ACCOUNT.PING.CONNZ` for their own account's connections and
   * `$SYS.REQ.ACCOUNT.PING.STATZ` for its statistics, answered in their account.
   */
  private importInto(acc: Account): void {
    const client: Client = {
      id: 0,
      echo: true,
      internal: true,
      deliver: (_sub, msg) => {
        const kind = msg.subject.endsWith('.STATZ') ? 'STATZ' : 'CONNZ';
        this.onAccount({ ...msg, subject: `$SYS.REQ.ACCOUNT.${acc.name}.${kind}` }, acc.router);
        return true;
      },
    };
    for (const subject of SYSTEM_IMPORTS) {
      this.imports.push([acc.router, acc.router.subscribe(client, subject, null, `sys:import:${subject}`)]);
    }
  }

  /**
   * nats-server Subsz: always the full envelope (the HTTP handler answers an empty page with the
   * bare statistics, src/http/endpoints.ts buildSubsz; the request service does not).
   */
  private subsz(q: URLSearchParams): object {
    const body = buildSubsz(this.s, q) as Options;
    if (body.server_id !== undefined) return body;
    const offset = Math.max(0, Number(q.get('offset') ?? 0) | 0);
    const limit = Number(q.get('limit') ?? 0) | 0;
    return {
      server_id: this.s.serverId,
      now: new Date().toISOString(),
      ...body,
      total: 0,
      offset,
      limit: limit > 0 ? limit : 1024,
    };
  }

  /** nats-server JszAccount: the account's JetStream detail, or its errors. */
  private accountJsz(name: string, o: Options): object {
    if (this.s.jetstream === null) throw new ZError(500, 'jetstream not enabled');
    if (this.s.accounts.get(name) === undefined) throw new ZError(500, `account ${JSON.stringify(name)} not found`);
    if (this.s.jetstreams?.has(name) !== true) throw new ZError(500, `account ${JSON.stringify(name)} not jetstream enabled`);
    const body = this.s.jetstream.jsz(withParam(jszQuery(o), 'acc', name)) as { account_details?: object[] };
    return body.account_details?.[0] ?? {};
  }

  /** `$SYS.REQ.ACCOUNT.<acc>.CONNS` (events.go connsRequest): the account's count, only when it has clients here. */
  private connsReq(msg: Message, acc: string): void {
    if (msg.reply === '') return;
    let asked = acc;
    if (msg.payload.length > 0) {
      try {
        const o = JSON.parse(msg.payload.toString()) as Options;
        if (typeof o.acc === 'string') asked = o.acc;
      } catch {
        return; // nats-server logs and drops it
      }
    }
    if (asked !== acc || this.s.accounts.get(acc) === undefined) return;
    if (accountConnections(this.s.connections, acc) === 0) return;
    const body = this.events.connsEvent(acc);
    if (body !== null) this.reply(msg.reply, this.s.accounts.system.router, body);
  }

  /** statszReq: an unparsable body gets a 400; a filter that excludes this server gets nothing. */
  private statszReq(msg: Message): void {
    const reply = msg.reply === '' ? `$SYS.SERVER.${this.s.serverId}.STATSZ` : msg.reply;
    const o = this.options(msg);
    if (o instanceof ZError) {
      this.reply(reply, this.s.accounts.system.router, { server: {}, error: { code: o.code, description: o.message } });
      return;
    }
    if (this.filteredOut(o)) return;
    this.reply(reply, this.s.accounts.system.router, this.statszMsg());
  }

  /** nats-server zReq: parse options, filter, build, wrap in ServerAPIResponse. */
  private zReq(msg: Message, build: (o: Options) => object | null, to: Router = this.s.accounts.system.router): void {
    if (msg.reply === '') return;
    const o = this.options(msg);
    if (o instanceof ZError) {
      this.reply(msg.reply, to, { server: this.events.serverInfo(), error: { code: o.code, description: o.message } });
      return;
    }
    if (this.filteredOut(o)) return;
    let data: object | null;
    try {
      data = build(o);
    } catch (err) {
      const code = err instanceof ZError ? err.code : 500;
      const description = err instanceof Error ? err.message : String(err);
      if (!(err instanceof ZError || err instanceof MonitorQueryError)) throw err;
      this.reply(msg.reply, to, { server: this.events.serverInfo(), data: null, error: { code, description } });
      return;
    }
    if (data === null) return; // nats-server errSkipZreq
    this.reply(msg.reply, to, { server: this.events.serverInfo(), data });
  }

  /** The request body as options; {} when empty. */
  private options(msg: Message): Options | ZError {
    if (msg.payload.length === 0) return {};
    let v: unknown;
    try {
      v = JSON.parse(msg.payload.toString());
    } catch (err) {
      return new ZError(400, err instanceof Error ? err.message : String(err));
    }
    if (v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) {
      return new ZError(400, `json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go value of type options`);
    }
    return v as Options;
  }

  /** nats-server filterRequest: true when the request names another server. */
  private filteredOut(o: Options): boolean {
    const name = this.s.options.serverName || this.s.serverId;
    const str = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
    if (str('server_name') !== '' && !name.includes(str('server_name'))) return true;
    if (str('host') !== '' && !this.s.options.host.includes(str('host'))) return true;
    // No cluster, no tags, no JetStream domain here: asking for any excludes this server.
    if (str('cluster') !== '' || str('domain') !== '') return true;
    return Array.isArray(o.tags) && o.tags.length > 0;
  }

  /** nats-server ServerStatsMsg: `{server, statsz}`. */
  private statszMsg(): object {
    return { server: this.events.serverInfo(), statsz: this.statsz() };
  }

  /** nats-server ServerStats (events.go sendStatsz). */
  private statsz(): object {
    const s = this.s;
    const t = routerTotals(s.accounts);
    let active = 0;
    for (const name of s.accounts.byName.keys()) if (accountConnections(s.connections, name) > 0) active++;
    const js = jetStreamVarz(s) as { config: Options; stats: Options } | null;
    return {
      start: s.startedAt.toISOString(),
      mem: process.memoryUsage().rss,
      cores: os.cpus().length,
      cpu: this.cpu.percent(),
      connections: s.connections.open.size,
      total_connections: s.connections.total,
      active_accounts: active,
      subscriptions: t.sublist.count,
      sent: { msgs: t.outMsgs, bytes: t.outBytes },
      received: { msgs: t.inMsgs, bytes: t.inBytes },
      slow_consumers: s.slowConsumers,
      active_servers: 1,
      ...(js === null ? {} : { jetstream: statszJetStream(js) }),
    };
  }

  private reply(subject: string, to: Router, body: object): void {
    to.publish({ subject, reply: '', headers: null, payload: Buffer.from(JSON.stringify(body)) }, null);
  }
}

/** nats-server JetStreamVarz as STATSZ carries it: the limits, and JetStreamStats' fields only. */
function statszJetStream(js: { config: Options; stats: Options }): object {
  const st = js.stats;
  const api = (st.api ?? {}) as Options;
  return {
    config: { max_memory: js.config.max_memory, max_storage: js.config.max_storage },
    stats: {
      memory: st.memory,
      storage: st.storage,
      reserved_memory: st.reserved_memory,
      reserved_storage: st.reserved_storage,
      accounts: st.accounts,
      ha_assets: st.ha_assets,
      api: { total: api.total, errors: api.errors },
    },
  };
}

function withParam(q: URLSearchParams, k: string, v: string): URLSearchParams {
  q.set(k, v);
  return q;
}
