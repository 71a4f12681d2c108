/**
 * Accounts: separate subject spaces on one server, joined only where an account exports a stream
 * or a service and another imports it (nats-server accounts.go). Protocol-free: each account owns
 * a Router of its own (so the no-accounts path is exactly one router, as before), and imports are
 * internal clients that forward from the exporter's router into the importer's. Service replies
 * travel back through a per-exporter table of `_R_.` reply subjects (nats-server
 * accounts.go, newServiceReply / addRespServiceImport). JetStream per account and the system
 * account's events are built on top of this by the server and the NATS door.
 */
import { randomBytes } from 'node:crypto';
import { Backpressure } from './backpressure.js';
import type { Client, Message, Subscription } from './message.js';
import { Router } from './router.js';
import { hasWildcard, subjectIsSubsetOf } from './subject.js';
import { SubjectMappings, type MappingSpec } from './mapping.js';

/** nats-server's global account: every client outside a declared account is in it. */
export const GLOBAL_ACCOUNT = '$G';
/** nats-server DEFAULT_SYSTEM_ACCOUNT: the system account when `system_account` is not set. */
export const DEFAULT_SYSTEM_ACCOUNT = '$SYS';
/** nats-server DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD: how long a service reply subject stays routable. */
export const DEFAULT_RESPONSE_THRESHOLD_MS = 2 * 60 * 1000;
/**
 * Forwarding hops one publish may take through imports before it is dropped: a stream import
 * chain A→B→A would otherwise loop forever (nats-server stops such loops with its own
 * per-message hop tracking; herald bounds the depth).
 */
export const MAX_IMPORT_HOPS = 8;
/** Service replies pending per exporting account; past it the oldest is dropped (bounded table). */
export const MAX_PENDING_RESPONSES = 100_000;
/** How often expired service reply subjects are swept (one timer per account set, not per request). */
const RESPONSE_SWEEP_MS = 30_000;
/** Prefix of the reply subjects herald gives requests crossing a service import (nats-server replyPrefix `_R_.`). */
export const SERVICE_REPLY_PREFIX = '_R_.';

/** Per-account JetStream limits (`jetstream { max_mem, max_file, max_streams, max_consumers }`); -1 = unlimited. */
export interface AccountJetStreamLimits {
  readonly maxMemory: number;
  readonly maxStorage: number;
  readonly maxStreams: number;
  readonly maxConsumers: number;
}

/** The limits of `jetstream: enabled`. */
export const UNLIMITED_JETSTREAM: AccountJetStreamLimits = Object.freeze({
  maxMemory: -1,
  maxStorage: -1,
  maxStreams: -1,
  maxConsumers: -1,
});

/** How many replies a service export may send per request (nats-server ServiceRespType). */
export type ResponseType = 'singleton' | 'stream' | 'chunked';

/** One export: subjects other accounts may import; `accounts` restricts who (null = anyone). */
export interface ExportSpec {
  readonly kind: 'stream' | 'service';
  readonly subject: string;
  readonly accounts: readonly string[] | null;
  readonly responseType: ResponseType;
  readonly responseThresholdMs: number;
}

/**
 * One import from `account`'s export of `subject`. For a stream, messages arrive under `prefix.`
 * + subject or mapped onto `to`; for a service, local requests on `to` (default `subject`) go to
 * the exporter's `subject`.
 */
export interface ImportSpec {
  readonly kind: 'stream' | 'service';
  readonly account: string;
  readonly subject: string;
  readonly to: string | null;
  readonly prefix: string | null;
}

/** One declared account. `jetstream` null = JetStream off for it. */
export interface AccountSpec {
  readonly name: string;
  readonly jetstream: AccountJetStreamLimits | null;
  readonly exports: readonly ExportSpec[];
  readonly imports: readonly ImportSpec[];
  /** Subject mappings applied to its clients' publishes (src/core/mapping.ts); absent = none. */
  readonly mappings?: readonly MappingSpec[];
}

/**
 * Every account of a config. `accounts` holds the declared ones (users are in AuthSettings,
 * tagged with their account); `$G` and the system account exist even when not declared.
 */
export interface AccountsConfig {
  readonly accounts: readonly AccountSpec[];
  readonly systemAccount: string;
  /** Top-level `mappings { }`: they apply to `$G` (nats-server opts.go adds them to the global account). */
  readonly globalMappings?: readonly MappingSpec[];
}

/** No `accounts {}`: everyone is in `$G` (and `$SYS` exists, empty). */
export const NO_ACCOUNTS: AccountsConfig = Object.freeze({ accounts: [], systemAccount: DEFAULT_SYSTEM_ACCOUNT });

/** True when `$G` gets JetStream: nats-server enables it for `$G` only when no account other than the system one is declared. */
export function globalHasJetStream(cfg: AccountsConfig): boolean {
  return !cfg.accounts.some((a) => a.name !== cfg.systemAccount && a.name !== GLOBAL_ACCOUNT);
}

/** The local subject of a stream import for an exported `subject` (prefix, `to` mapping, or itself). */
export function streamImportSubject(imp: ImportSpec, subject: string): string {
  if (imp.prefix !== null) return `${imp.prefix}.${subject}`;
  if (imp.to !== null) return mapSubject(imp.subject, imp.to, subject);
  return subject;
}

/**
 * Maps `subject` (matched by pattern `from`) onto pattern `to`: each `*` or `$n` in `to` takes the
 * next (or n-th) token captured by `from`'s wildcards, a `>` takes the tail (nats-server
 * subject_transform.go, legacy wildcard mapping). Literal `to` tokens stay as they are.
 */
export function mapSubject(from: string, to: string, subject: string): string {
  if (!hasWildcard(from) && !hasWildcard(to)) return to;
  const ft = from.split('.');
  const st = subject.split('.');
  const captured: string[] = [];
  let tail = '';
  for (let i = 0; i < ft.length; i++) {
    if (ft[i] === '*') captured.push(st[i] ?? '');
    else if (ft[i] === '>') tail = st.slice(i).join('.');
  }
  let next = 0;
  return to
    .split('.')
    .map((t) => {
      if (t === '*') return captured[next++] ?? '';
      if (t === '>') return tail;
      const m = /^\$(\d+)$/.exec(t) ?? /^\{\{\s*wildcard\((\d+)\)\s*\}\}$/.exec(t);
      return m === null ? t : (captured[Number(m[1]) - 1] ?? '');
    })
    .join('.');
}

/** A Router whose backpressure is shared with the rest of the server (one budget for all accounts). */
class AccountRouter extends Router {
  constructor(shared: Backpressure) {
    super();
    (this as { backpressure: Backpressure }).backpressure = shared;
  }
}

/** One account at run time: its name, its declaration (null for an undeclared `$G`/`$SYS`) and its router. */
export class Account {
  constructor(
    readonly name: string,
    readonly spec: AccountSpec | null,
    readonly router: Router,
  ) {}

  /** The account's subject mappings as configured (empty = none). */
  get mappings(): readonly MappingSpec[] {
    return this.router.mappings?.specs ?? [];
  }

  /** JetStream limits, or null when JetStream is off for this account. */
  get jetstream(): AccountJetStreamLimits | null {
    return this.spec?.jetstream ?? null;
  }
}

/** Hops of the publish being forwarded right now (see MAX_IMPORT_HOPS); imports run synchronously. */
let hops = 0;

function forward(to: Router, msg: Message): number {
  if (hops >= MAX_IMPORT_HOPS) return 0;
  hops++;
  try {
    return to.publish(msg, null);
  } finally {
    hops--;
  }
}

/** An internal router client with one `deliver` function. */
function internalClient(deliver: (sub: Subscription, msg: Message) => boolean): Client {
  return { id: 0, echo: true, internal: true, deliver };
}

interface PendingReply {
  readonly back: Router;
  readonly reply: string;
  left: number;
  readonly expires: number;
}

/**
 * An exporting account's table of service replies in flight: `_R_.<token>` → the importer's
 * router and original reply subject. Bounded (MAX_PENDING_RESPONSES), swept of expired entries
 * by the account set's one timer; a singleton export's entry goes after its first reply.
 */
class ResponseRoutes {
  private readonly pending = new Map<string, PendingReply>();
  private sub: Subscription | null = null;

  constructor(private readonly router: Router) {}

  start(): void {
    const client = internalClient((_s, msg) => this.onReply(msg));
    this.sub = this.router.subscribe(client, `${SERVICE_REPLY_PREFIX}>`, null, 'acct:replies');
  }

  stop(): void {
    if (this.sub !== null) this.router.unsubscribe(this.sub);
    this.pending.clear();
  }

  add(back: Router, reply: string, exp: ExportSpec, now: number): string {
    if (this.pending.size >= MAX_PENDING_RESPONSES) this.pending.delete(this.pending.keys().next().value as string);
    const subject = `${SERVICE_REPLY_PREFIX}${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
    const left = exp.responseType === 'singleton' ? 1 : Infinity;
    this.pending.set(subject, { back, reply, left, expires: now + exp.responseThresholdMs });
    return subject;
  }

  drop(subject: string): void {
    this.pending.delete(subject);
  }

  private onReply(msg: Message): boolean {
    const p = this.pending.get(msg.subject);
    if (p === undefined) return false;
    if (Date.now() > p.expires) {
      this.pending.delete(msg.subject);
      return false;
    }
    if (--p.left <= 0) this.pending.delete(msg.subject);
    forward(p.back, { subject: p.reply, reply: '', headers: msg.headers, payload: msg.payload });
    return true;
  }

  sweep(now: number): void {
    for (const [k, p] of this.pending) if (now > p.expires) this.pending.delete(k);
  }

  get size(): number {
    return this.pending.size;
  }
}

/** The export of `exporter` that lets `importer` import `subject` of `kind`, or null (nats-server checkStreamImportAuthorized). */
export function findExport(
  exporter: AccountSpec | null,
  kind: 'stream' | 'service',
  subject: string,
  importer: string,
): ExportSpec | null {
  if (exporter === null) return null;
  for (const e of exporter.exports) {
    if (e.kind !== kind || !subjectIsSubsetOf(subject, e.subject)) continue;
    if (e.accounts === null || e.accounts.includes(importer)) return e;
  }
  return null;
}

/**
 * The accounts of one config, built and wired: a router per account (`$G` uses the router it is
 * given, so a server without accounts routes exactly as before), one forwarding subscription per
 * import and one reply table per account that exports services. Costs, per cross-account
 * message, one extra publish into the importer's router; nothing for accounts without imports.
 * A config reload swaps the declarations in place (`apply`): routers of accounts that stay are
 * kept, so their clients' subscriptions and JetStream stay attached. The config must have
 * passed `validateAccounts` (src/config/accounts-conf.ts).
 */
export class AccountSet {
  readonly byName = new Map<string, Account>();
  /** `$G`; replaced (same router) when a reload changes its declaration. */
  global!: Account;
  /** The system account; replaced (same router) when a reload changes its declaration. */
  system!: Account;
  private cfg: AccountsConfig;
  private readonly links: { router: Router; sub: Subscription }[] = [];
  private readonly replies = new Map<string, ResponseRoutes>();
  private sweeper: NodeJS.Timeout | null = null;
  /** When this configuration took effect (nats-server AccountInfo `update_time`). */
  readonly createdAt = new Date();

  constructor(
    config: AccountsConfig,
    private readonly globalRouter: Router,
  ) {
    this.cfg = config;
    this.declare(config, new Map());
    this.wire();
  }

  /** The declarations in force. */
  get config(): AccountsConfig {
    return this.cfg;
  }

  /**
   * Config reload (nats-server reload.go reloadAuthorization, which rebuilds the accounts and
   * hands each surviving one its old sublist): accounts that stay keep their router, new ones get
   * a fresh router, removed ones are dropped (their router is left to the clients the caller
   * closes). Every import is unwired and wired again from `next`, synchronously, so a removed
   * import stops delivering and a new one delivers to existing subscribers from the next publish.
   * Service replies in flight keep routing back through exporters that stay. Returns the names
   * of the removed accounts.
   */
  apply(next: AccountsConfig): string[] {
    this.unwire();
    const old = new Map(this.byName);
    this.cfg = next;
    this.declare(next, old);
    const removed = [...old.keys()].filter((n) => !this.byName.has(n));
    for (const name of removed) {
      this.replies.get(name)?.stop();
      this.replies.delete(name);
    }
    this.wire();
    return removed;
  }

  /** Fills `byName` from `cfg`, reusing the routers of `old` accounts of the same name. */
  private declare(cfg: AccountsConfig, old: ReadonlyMap<string, Account>): void {
    const bp = this.globalRouter.backpressure;
    const routerOf = (name: string): Router =>
      old.get(name)?.router ?? (name === GLOBAL_ACCOUNT ? this.globalRouter : new AccountRouter(bp));
    this.byName.clear();
    for (const spec of cfg.accounts) this.byName.set(spec.name, new Account(spec.name, spec, routerOf(spec.name)));
    if (!this.byName.has(GLOBAL_ACCOUNT)) this.byName.set(GLOBAL_ACCOUNT, new Account(GLOBAL_ACCOUNT, null, this.globalRouter));
    if (!this.byName.has(cfg.systemAccount))
      this.byName.set(cfg.systemAccount, new Account(cfg.systemAccount, null, routerOf(cfg.systemAccount)));
    this.global = this.byName.get(GLOBAL_ACCOUNT)!;
    this.system = this.byName.get(cfg.systemAccount)!;
    for (const acc of this.byName.values()) {
      const maps = [...(acc.spec?.mappings ?? []), ...(acc === this.global ? (cfg.globalMappings ?? []) : [])];
      acc.router.mappings = maps.length === 0 ? null : new SubjectMappings(maps);
    }
  }

  /** One forwarding subscription per import of the current config, and the reply sweeper. */
  private wire(): void {
    for (const spec of this.cfg.accounts) {
      const importer = this.byName.get(spec.name)!;
      for (const imp of spec.imports) {
        const exporter = this.byName.get(imp.account);
        const exp = findExport(exporter?.spec ?? null, imp.kind, imp.subject, spec.name);
        if (exporter === undefined || exp === null) continue; // refused by validateAccounts
        if (imp.kind === 'stream') this.linkStream(exporter, importer, imp);
        else this.linkService(exporter, importer, imp, exp);
      }
    }
    if (this.replies.size > 0 && this.sweeper === null) {
      this.sweeper = setInterval(() => {
        const now = Date.now();
        for (const r of this.replies.values()) r.sweep(now);
      }, RESPONSE_SWEEP_MS);
      this.sweeper.unref();
    }
  }

  /** Removes every import's forwarding subscription (reply tables stay for replies in flight). */
  private unwire(): void {
    for (const l of this.links) l.router.unsubscribe(l.sub);
    this.links.length = 0;
  }

  /** The account called `name`, or undefined. */
  get(name: string): Account | undefined {
    return this.byName.get(name);
  }

  /** True when more than `$G` and the system account exist (a config with `accounts {}`). */
  get declared(): boolean {
    return this.cfg.accounts.length > 0;
  }

  /** Service replies in flight, all exporters together (for tests and monitoring). */
  get pendingReplies(): number {
    let n = 0;
    for (const r of this.replies.values()) n += r.size;
    return n;
  }

  /** Stream import: the exporter's messages on `imp.subject` are republished in the importer's space. */
  private linkStream(exporter: Account, importer: Account, imp: ImportSpec): void {
    const to = importer.router;
    const client = internalClient((_s, msg) => {
      forward(to, {
        subject: streamImportSubject(imp, msg.subject),
        reply: msg.reply,
        headers: msg.headers,
        payload: msg.payload,
      });
      return true;
    });
    const sid = `import:${importer.name}:${imp.subject}`;
    this.links.push({ router: exporter.router, sub: exporter.router.subscribe(client, imp.subject, null, sid) });
  }

  /**
   * Service import: requests on the importer's local subject go to the exporter's subject with a
   * fresh `_R_.` reply that routes the answer back. The import itself counts as a responder, so a
   * request that no one in the exporter serves times out rather than getting no-responders, as
   * with nats-server 2.9 (test/security/accounts.test.ts pins it against the real server).
   */
  private linkService(exporter: Account, importer: Account, imp: ImportSpec, exp: ExportSpec): void {
    let routes = this.replies.get(exporter.name);
    if (routes === undefined) {
      routes = new ResponseRoutes(exporter.router);
      routes.start();
      this.replies.set(exporter.name, routes);
    }
    const table = routes;
    const local = imp.to ?? imp.subject;
    const back = importer.router;
    const client = internalClient((_s, msg) => {
      const subject = local === imp.subject ? msg.subject : mapSubject(local, imp.subject, msg.subject);
      const reply = msg.reply === '' ? '' : table.add(back, msg.reply, exp, Date.now());
      const n = forward(exporter.router, { subject, reply, headers: msg.headers, payload: msg.payload });
      if (n === 0 && reply !== '') table.drop(reply);
      return true;
    });
    const sid = `import:${importer.name}:${local}`;
    this.links.push({ router: importer.router, sub: importer.router.subscribe(client, local, null, sid) });
  }

  /** Removes every import subscription and reply table (the routers themselves stay usable). */
  close(): void {
    this.unwire();
    for (const r of this.replies.values()) r.stop();
    this.replies.clear();
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}

/** Builds the account set of a parsed config on top of the server's `$G` router (config reload calls this too). */
export function buildAccounts(cfg: AccountsConfig, globalRouter: Router): AccountSet {
  return new AccountSet(cfg, globalRouter);
}
