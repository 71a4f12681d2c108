/**
 * Client authentication and subject permissions, protocol-free: who may connect (token, user and
 * password — plain or bcrypt — or an nkey that signs the server's nonce) and what a connected
 * user may publish and subscribe to. The NATS door calls `authenticate` from CONNECT and asks a
 * `PermissionChecker` at PUB, SUB and delivery; it owns the wire texts. Semantics follow
 * nats-server auth.go (processClientOrLeafAuthentication, comparePasswords) and client.go
 * (canSubscribe, pubAllowedFullCheck, deliverMsg's reply tracking).
 */
import { createRequire } from 'node:module';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { fromPublic as FromPublic } from 'nkeys.js';
import { subjectMatches, subjectsCollide } from './subject.js';
import { bcryptVerify, type VerifyOptions } from './bcrypt-pool.js';

/** nkeys.js is loaded on first use (and bcryptjs only in the bcrypt worker): a server without
 * auth (the nats-server drop-in in test harnesses, whose launcher allows 1 s to start) does not
 * pay ~45 ms to import them. */
const requireLazy = createRequire(import.meta.url);
let fromPublicFn: typeof FromPublic | null = null;
/** nkeys.js `fromPublic`, loaded on first use. */
export function nkeyFromPublic(key: string): ReturnType<typeof FromPublic> {
  fromPublicFn ??= (requireLazy('nkeys.js') as { fromPublic: typeof FromPublic }).fromPublic;
  return fromPublicFn(key);
}

/** One allow/deny entry: a subject pattern, and for subscribe lists an optional queue-group pattern (`"foo.> q"`). */
export interface PermEntry {
  readonly subject: string;
  readonly queue: string | null;
}

/**
 * nats-server's SubjectPermission. `null` means "no list" (everything passes that side); an
 * empty list is a list (nothing is allowed), as in nats-server.
 */
export interface SubjectPermission {
  readonly allow: readonly PermEntry[] | null;
  readonly deny: readonly PermEntry[] | null;
}

/** `allow_responses`: publishing to a reply subject this client received is allowed `maxMsgs` times within `expiresMs`. */
export interface ResponsePermission {
  readonly maxMsgs: number;
  readonly expiresMs: number;
}

/** What one user may do; `null` sides allow everything. */
export interface Permissions {
  readonly publish: SubjectPermission | null;
  readonly subscribe: SubjectPermission | null;
  readonly responses: ResponsePermission | null;
}

/** A configured user: `name` is the username or, for nkey users, the public key. */
export interface AuthUser {
  readonly name: string;
  /** Plain text or a bcrypt hash (`$2a$…`); null for nkey users. */
  readonly password: string | null;
  readonly nkey: boolean;
  readonly permissions: Permissions | null;
  /** The account the user belongs to (`accounts { A: { users } }`); absent = `$G`. */
  readonly account?: string;
}

/**
 * Everything herald checks at CONNECT. At most one of token / single user / user list is set
 * (the config refuses mixes, as nats-server does); nkey users may sit beside password users.
 */
export interface AuthSettings {
  readonly token: string | null;
  /** `authorization { user, password }` or `--user/--pass`. */
  readonly user: string | null;
  readonly password: string | null;
  readonly users: readonly AuthUser[];
  /** Users that connect without credentials are this user (must name an entry of `users`). */
  readonly noAuthUser: string | null;
}

/** No authentication: every client may connect and do everything. */
export const NO_AUTH: AuthSettings = Object.freeze({ token: null, user: null, password: null, users: [], noAuthUser: null });

/** nats-server DEFAULT_ALLOW_RESPONSE_MAX_MSGS: one reply per request unless configured. */
export const DEFAULT_RESPONSE_MAX_MSGS = 1;
/** nats-server DEFAULT_ALLOW_RESPONSE_EXPIRATION: a reply subject stays usable for 2 minutes. */
export const DEFAULT_RESPONSE_EXPIRES_MS = 2 * 60 * 1000;
/** Random bytes in an INFO nonce; nats-server's nonceLen (11 bytes, 15 base64url characters). */
const NONCE_BYTES = 11;
/** Reply subjects tracked per connection for allow_responses before expired ones are pruned (nats-server replyPermLimit). */
const REPLY_TRACK_LIMIT = 4096;
/** Publish verdicts cached per connection; the cache is cleared when it grows past this (nats-server maxPermCacheSize). */
const PERM_CACHE_MAX = 128;

/** Hosts that only this machine can reach: a door listening there without authentication is
 * safe; anywhere else the doors log a SECURITY WARNING (src/nats/server.ts, src/resp/server.ts). */
export const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i;

/** True when settings ask clients to authenticate (INFO `auth_required`). */
export function authRequired(a: AuthSettings): boolean {
  return a.token !== null || a.user !== null || a.users.length > 0;
}

/** True when INFO must carry a nonce: some user authenticates with an nkey. */
export function nonceRequired(a: AuthSettings): boolean {
  return a.users.some((u) => u.nkey);
}

/** A fresh nonce for one connection's INFO. */
export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64url');
}

/** A bcrypt hash as nats-server recognises one (auth.go isBcrypt: `$2a$`, `$2b$`, `$2x$`, `$2y$`). */
export function isBcrypt(s: string): boolean {
  return /^\$2[abxy]\$/.test(s);
}

/** A well-formed bcrypt hash: prefix, two-digit cost 04–31, 53 characters of salt and digest. */
export function isWellFormedBcrypt(s: string): boolean {
  const m = /^\$2[abxy]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(s);
  return m !== null && Number(m[1]) >= 4 && Number(m[1]) <= 31;
}

/**
 * nats-server auth.go comparePasswords: bcrypt when the configured secret is a hash, else a
 * constant-time compare. A bcrypt compare costs ~2^cost rounds (≈50–100 ms at cost 10–11) of CPU:
 * it runs on a worker thread, and a pair verified before costs one HMAC (src/core/bcrypt-pool.ts).
 */
export async function comparePasswords(configured: string, given: string, opts?: VerifyOptions): Promise<boolean> {
  if (isBcrypt(configured)) return bcryptVerify(configured, given, opts);
  const a = Buffer.from(configured);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The credential fields of CONNECT. */
export interface Credentials {
  user?: string;
  pass?: string;
  auth_token?: string;
  nkey?: string;
  sig?: string;
  jwt?: string;
}

/** A successful authentication: the name /connz shows and the permissions to enforce. */
export interface Authenticated {
  readonly user: string;
  readonly permissions: Permissions | null;
  /** The user's account; undefined = `$G`. */
  readonly account?: string;
}

/**
 * Checks CONNECT credentials against `a` (nats-server auth.go processClientOrLeafAuthentication,
 * without accounts/JWT): an nkey user must sign `nonce`; a user-list user must give its password;
 * otherwise the token or single user applies; `no_auth_user` stands in for a client that sent no
 * credentials at all. Resolves to null on failure (the door sends 'Authorization Violation');
 * never rejects. Asynchronous because a bcrypt password is checked on a worker thread: a door
 * must hold the client's later commands until it resolves (the NATS door suspends its parser).
 * Token, plain-password and nkey checks resolve in the same turn's microtasks. `opts` names the
 * asking connection to the bcrypt queue (its address, and a signal aborted when it closes).
 */
export async function authenticate(
  a: AuthSettings,
  c: Credentials,
  nonce: string,
  opts?: VerifyOptions,
): Promise<Authenticated | null> {
  const given = (s: string | undefined): string => s ?? '';
  const userName = given(c.user);
  const pass = given(c.pass);
  if (
    a.noAuthUser !== null &&
    userName === '' &&
    pass === '' &&
    given(c.auth_token) === '' &&
    given(c.nkey) === '' &&
    given(c.jwt) === ''
  ) {
    const u = a.users.find((x) => !x.nkey && x.name === a.noAuthUser);
    if (u !== undefined) return { user: u.name, permissions: u.permissions, account: u.account };
  }
  const nkeyName = given(c.nkey);
  if (nkeyName !== '' && a.users.some((u) => u.nkey)) {
    const u = a.users.find((x) => x.nkey && x.name === nkeyName);
    if (u === undefined || !verifyNonce(nkeyName, given(c.sig), nonce)) return null;
    return { user: u.name, permissions: u.permissions, account: u.account };
  }
  if (a.users.some((u) => !u.nkey)) {
    if (userName === '') return null;
    const u = a.users.find((x) => !x.nkey && x.name === userName);
    if (u === undefined || !(await comparePasswords(u.password ?? '', pass, opts))) return null;
    return { user: u.name, permissions: u.permissions, account: u.account };
  }
  if (a.token !== null) return (await comparePasswords(a.token, given(c.auth_token), opts)) ? { user: '', permissions: null } : null;
  if (a.user !== null) {
    if (userName !== a.user || !(await comparePasswords(a.password ?? '', pass, opts))) return null;
    return { user: userName, permissions: null };
  }
  return null;
}

/** Ed25519 check of `sig` (base64url, or standard base64 as nats-server falls back to) over the nonce's bytes. */
function verifyNonce(nkey: string, sig: string, nonce: string): boolean {
  if (sig === '' || nonce === '') return false;
  try {
    const bytes = Buffer.from(sig, /[+/]/.test(sig) ? 'base64' : 'base64url');
    return nkeyFromPublic(nkey).verify(Buffer.from(nonce), bytes);
  } catch {
    return false;
  }
}

/** True when any entry's subject pattern matches `subject`, counting only entries without a queue (nats-server's psubs). */
function plainMatch(list: readonly PermEntry[], subject: string): boolean {
  for (const e of list) if (e.queue === null && subjectMatches(e.subject, subject)) return true;
  return false;
}

/**
 * nats-server canSubscribe for one list: `plain` when a queue-less entry matches; when the SUB
 * has a queue and queue entries match the subject, the verdict is whether one of their queue
 * patterns matches the queue (queueMatches).
 */
function listVerdict(
  list: readonly PermEntry[],
  subject: string,
  queue: string | null,
): { plain: boolean; queued: boolean | null } {
  const plain = plainMatch(list, subject);
  if (queue === null) return { plain, queued: null };
  let any = false;
  let hit = false;
  for (const e of list) {
    if (e.queue === null || !subjectMatches(e.subject, subject)) continue;
    any = true;
    if (subjectMatches(e.queue, queue)) hit = true;
  }
  return { plain, queued: any ? hit : null };
}

/**
 * One connection's permission state: the user's rules, a small cache of publish verdicts and the
 * reply subjects it may answer under allow_responses. Costs one pattern walk per distinct
 * published subject (then a Map lookup) and, with allow_responses, one Map entry per request seen.
 */
export class PermissionChecker {
  private readonly pubCache = new Map<string, boolean>();
  private readonly recvCache = new Map<string, boolean>();
  private readonly replies = new Map<string, { at: number; n: number }>();
  /** True when deliveries must be filtered by the subscribe deny list (a wildcard SUB overlaps it). */
  private filterDeliveries = false;

  constructor(readonly perms: Permissions) {}

  /** True when the user may publish to `subject` (counts one use of an allowed reply). */
  canPublish(subject: string, now: number): boolean {
    const p = this.perms.publish;
    if (p === null) return true;
    const cached = this.pubCache.get(subject);
    if (cached === true) return true;
    if (cached === undefined) {
      let ok = p.allow === null || plainMatch(p.allow, subject);
      if (ok && p.deny !== null) ok = !plainMatch(p.deny, subject);
      if (this.pubCache.size >= PERM_CACHE_MAX) this.pubCache.clear();
      this.pubCache.set(subject, ok);
      if (ok) return true;
    }
    return this.useReply(subject, now);
  }

  private useReply(subject: string, now: number): boolean {
    const r = this.perms.responses;
    const t = r === null ? undefined : this.replies.get(subject);
    if (r === null || t === undefined) return false;
    t.n++;
    if (t.n > r.maxMsgs || now - t.at > r.expiresMs) {
      this.replies.delete(subject);
      return false;
    }
    return true;
  }

  /** Records a reply subject of a message delivered to this connection (allow_responses). */
  sawReply(reply: string, now: number): void {
    const r = this.perms.responses;
    if (r === null) return;
    if (this.replies.size >= REPLY_TRACK_LIMIT) {
      for (const [k, v] of this.replies) if (now - v.at > r.expiresMs) this.replies.delete(k);
      // Still full of live replies: drop the oldest, as nats-server prunes to bound memory.
      if (this.replies.size >= REPLY_TRACK_LIMIT) this.replies.delete(this.replies.keys().next().value as string);
    }
    this.replies.set(reply, { at: now, n: 0 });
  }

  /** True when the user's permissions track reply subjects (allow_responses). */
  get tracksReplies(): boolean {
    return this.perms.responses !== null;
  }

  /** nats-server canSubscribe: allow list first (queue entries decide for a queue SUB), then deny. */
  canSubscribe(subject: string, queue: string | null): boolean {
    const p = this.perms.subscribe;
    if (p === null) return true;
    let ok = true;
    if (p.allow !== null) {
      const v = listVerdict(p.allow, subject, queue);
      ok = v.queued ?? v.plain;
    }
    if (ok && p.deny !== null) {
      const v = listVerdict(p.deny, subject, queue);
      ok = v.queued !== null ? !v.queued : !v.plain;
      // A wildcard SUB that overlaps a denied subject is allowed, but messages on the denied
      // subjects are not delivered to it (nats-server loadMsgDenyFilter).
      if (ok && !this.filterDeliveries && /(^|\.)[*>](\.|$)/.test(subject)) {
        this.filterDeliveries = p.deny.some((e) => e.queue === null && subjectsCollide(e.subject, subject));
      }
    }
    return ok;
  }

  /**
   * True when a message on `subject` may reach a subscription whose pattern is not a NATS subject
   * (a Redis glob: `*` crosses dots, so checking the pattern text proves nothing): the delivered
   * subject itself must pass the subscribe allow list and miss the deny list. One Map lookup per
   * distinct subject after the first pattern walk.
   */
  canReceive(subject: string): boolean {
    const p = this.perms.subscribe;
    if (p === null) return true;
    const cached = this.recvCache.get(subject);
    if (cached !== undefined) return cached;
    let ok = p.allow === null || plainMatch(p.allow, subject);
    if (ok && p.deny !== null) ok = !plainMatch(p.deny, subject);
    if (this.recvCache.size >= PERM_CACHE_MAX) this.recvCache.clear();
    this.recvCache.set(subject, ok);
    return ok;
  }

  /** False when a message on `subject` must not be delivered (subscribe deny list, see canSubscribe). */
  canDeliver(subject: string): boolean {
    if (!this.filterDeliveries) return true;
    const deny = this.perms.subscribe?.deny;
    return deny == null || !plainMatch(deny, subject);
  }
}
