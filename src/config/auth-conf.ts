/**
 * `authorization { … }` and `no_auth_user` of a nats conf, read into `AuthSettings` the way
 * nats-server's opts.go reads them (parseAuthorization, parseUsers, parseUserPermissions,
 * parseSubjectPermission, parseAllowResponses). Anything herald does not enforce (accounts,
 * auth callout, connection types) is refused: ignoring it would let clients do more than the
 * config says. Secrets never appear in error messages.
 */
import {
  isBcrypt,
  isWellFormedBcrypt,
  nkeyFromPublic,
  DEFAULT_RESPONSE_EXPIRES_MS,
  DEFAULT_RESPONSE_MAX_MSGS,
} from '../core/auth.js';
import type { AuthSettings, AuthUser, PermEntry, Permissions, ResponsePermission, SubjectPermission } from '../core/auth.js';
import { isValidSubject } from '../core/subject.js';
import { ConfigError, describeValue } from './errors.js';
import { confLocation, isUsedVariable, type ConfValue } from './nats-conf.js';
import { parseGoDuration } from './values.js';

/** Where a value sits, for error locations (same shape as load.ts's). */
export interface AuthWhere {
  container: object;
  key: string;
  path: string;
}

/** A ConfigError located at `w`. */
export function fail(w: AuthWhere, message: string): ConfigError {
  return new ConfigError(`${w.path}: ${message}`, { location: confLocation(w.container, w.key), key: w.path });
}

/** Like load.ts's `bad`, but never echoes the value: it may be a secret. */
function badSecret(w: AuthWhere, allowed: string): ConfigError {
  return fail(w, `expected ${allowed}`);
}

/** A ConfigError naming what was expected and what was given. */
export function bad(w: AuthWhere, allowed: string, v: ConfValue): ConfigError {
  return fail(w, `expected ${allowed}, got ${describeValue(v)}`);
}

/** The entries of a conf map, keys lower-cased, each with its location. */
export function mapEntries(w: AuthWhere, v: ConfValue, allowed: string): [string, ConfValue, AuthWhere][] {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date) throw bad(w, allowed, v);
  return Object.keys(v).map((k) => [k.toLowerCase(), v[k]!, { container: v, key: k, path: `${w.path}.${k}` }]);
}

function secret(w: AuthWhere, v: ConfValue): string {
  if (typeof v !== 'string' && typeof v !== 'number') throw badSecret(w, 'a string');
  const s = String(v);
  // A value that claims to be a bcrypt hash but is not one would make every login fail silently.
  if (isBcrypt(s) && !isWellFormedBcrypt(s)) {
    throw fail(
      w,
      'looks like a bcrypt hash ($2a$/$2b$…) but is not a valid one (expected $2x$<cost 04-31>$ and 53 characters, as `nats server passwd` prints)',
    );
  }
  return s;
}

function name(w: AuthWhere, v: ConfValue): string {
  if (typeof v !== 'string' || v === '') throw bad(w, 'a non-empty user name', v);
  return v;
}

/** Callbacks into load.ts: `timeout` is applied there, and warnings are collected there. */
export interface AuthHooks {
  timeout(v: ConfValue, w: AuthWhere): void;
  warn(w: AuthWhere, message: string): void;
}

/** Keys of `authorization { }` that delegate or widen access in ways herald cannot check: refused. */
const REFUSED_AUTH_KEYS: Readonly<Record<string, string>> = {
  auth_callout: 'herald does not implement auth callout (docs/security.md)',
  nkeys: "list nkey users under 'users' as { nkey: U… }",
};

/** Reads `authorization { … }`. */
export function parseAuthorization(v: ConfValue, w: AuthWhere, prev: AuthSettings, hooks: AuthHooks): AuthSettings {
  let token: string | null = null;
  let user: string | null = null;
  let password: string | null = null;
  let users: AuthUser[] = [];
  let usersWhere: AuthWhere | null = null;
  let defaults: Permissions | null = null;
  for (const [k, mv, mw] of mapEntries(w, v, 'a map such as { user: u, password: p } or { token: t }')) {
    switch (k) {
      case 'timeout':
        hooks.timeout(mv, mw);
        break;
      case 'user':
      case 'username':
        user = name(mw, mv);
        break;
      case 'pass':
      case 'password':
        password = secret(mw, mv);
        break;
      case 'token':
        token = secret(mw, mv);
        break;
      case 'users':
        users = parseUsers(mv, mw);
        usersWhere = mw;
        break;
      case 'permissions':
      case 'default_permission':
      case 'default_permissions':
        defaults = parsePermissions(mv, mw);
        break;
      default:
        if (Object.hasOwn(REFUSED_AUTH_KEYS, k)) throw fail(mw, REFUSED_AUTH_KEYS[k]!);
        // A variable the file refers to (`PERM: {…}`, then `$PERM`) is not a setting.
        if (isUsedVariable(mw.container, mw.key)) break;
        // nats-server opts.go parseAuthorization: an unknown field is an error. Ignoring a misspelt
        // `users` would leave the server without authentication.
        throw fail(mw, `unknown field "${mw.key}" in the authorization block`);
    }
  }
  if (usersWhere !== null && token !== null) throw fail(usersWhere, 'can not have a token and a users array (as nats-server)');
  if (usersWhere !== null && user !== null)
    throw fail(usersWhere, 'can not have a single user/pass and a users array (as nats-server)');
  if (token !== null && user !== null) throw fail(w, 'can not have a token and a user (as nats-server)');
  if ((user === null) !== (password === null)) throw fail(w, 'user and password must be given together');
  if (defaults !== null) users = users.map((u) => (u.permissions === null ? { ...u, permissions: defaults } : u));
  // Users of `accounts { }` (read before or after this block) stay.
  const accountUsers = prev.users.filter((u) => u.account !== undefined);
  return { token, user, password, users: [...accountUsers, ...users], noAuthUser: prev.noAuthUser };
}

/** `users: [ {user, password, permissions} | {nkey, permissions} ]`, tagged with `account` when given. */
export function parseUsers(v: ConfValue, w: AuthWhere, account?: string): AuthUser[] {
  if (!Array.isArray(v)) throw bad(w, 'a list of users such as [{ user: a, password: b }]', v);
  const seen = new Set<string>();
  return v.map((entry, i) => {
    const ew: AuthWhere = { container: v, key: String(i), path: `${w.path}[${i}]` };
    let uname: string | null = null;
    let pass: string | null = null;
    let nkey: string | null = null;
    let permissions: Permissions | null = null;
    for (const [k, mv, mw] of mapEntries(ew, entry, 'a map such as { user: a, password: b } or { nkey: U… }')) {
      if (k === 'user' || k === 'username') uname = name(mw, mv);
      else if (k === 'pass' || k === 'password') pass = secret(mw, mv);
      else if (k === 'nkey') nkey = userNkey(mw, mv);
      else if (k === 'permission' || k === 'permissions') permissions = parsePermissions(mv, mw);
      else if (k === 'account')
        throw fail(mw, 'put the user under its account instead: accounts { NAME: { users: [...] } } (docs/security.md)');
      else
        throw fail(
          mw,
          'herald does not implement this user setting; remove it (ignoring it could let this user do more than configured)',
        );
    }
    if (nkey !== null && (uname !== null || pass !== null)) throw fail(ew, 'an nkey user has no user name or password');
    if (nkey === null && uname === null) throw fail(ew, 'a user needs `user` (with `password`) or `nkey`');
    const id = nkey ?? uname!;
    if (seen.has(id)) throw fail(ew, `duplicate user ${JSON.stringify(id)}`);
    seen.add(id);
    const user: AuthUser = { name: id, password: nkey === null ? (pass ?? '') : null, nkey: nkey !== null, permissions };
    return account === undefined ? user : { ...user, account };
  });
}

function userNkey(w: AuthWhere, v: ConfValue): string {
  const ok = (() => {
    if (typeof v !== 'string' || !v.startsWith('U')) return false;
    try {
      nkeyFromPublic(v);
      return true;
    } catch {
      return false;
    }
  })();
  if (!ok) throw bad(w, 'a user public nkey (56 characters starting with U)', v);
  return v as string;
}

/** `permissions { publish, subscribe, allow_responses }` (nats-server parseUserPermissions). */
export function parsePermissions(v: ConfValue, w: AuthWhere): Permissions {
  let publish: SubjectPermission | null = null;
  let subscribe: SubjectPermission | null = null;
  let responses: ResponsePermission | null = null;
  for (const [k, mv, mw] of mapEntries(w, v, 'a map such as { publish: "a.>", subscribe: { allow: [...], deny: [...] } }')) {
    if (k === 'pub' || k === 'publish' || k === 'import') publish = subjectPermission(mv, mw, false);
    else if (k === 'sub' || k === 'subscribe' || k === 'export') subscribe = subjectPermission(mv, mw, true);
    else if (k === 'resp' || k === 'allow_responses') responses = allowResponses(mv, mw);
    else throw fail(mw, "expected one of 'publish', 'subscribe', 'allow_responses'");
  }
  // nats-server auth.go validateResponsePermissions: allow_responses without a publish allow list
  // turns off the blanket allow, so only replies may be published.
  if (responses !== null && (publish === null || publish.allow === null)) publish = { allow: [], deny: publish?.deny ?? null };
  return { publish, subscribe, responses };
}

/** A string or list (an allow list), or `{ allow, deny }`. */
function subjectPermission(v: ConfValue, w: AuthWhere, queues: boolean): SubjectPermission {
  if (typeof v === 'string' || Array.isArray(v)) return { allow: subjectList(v, w, queues), deny: null };
  let allow: PermEntry[] | null = null;
  let deny: PermEntry[] | null = null;
  for (const [k, mv, mw] of mapEntries(w, v, 'a subject, a list of subjects, or { allow: [...], deny: [...] }')) {
    if (k === 'allow') allow = subjectList(mv, mw, queues);
    else if (k === 'deny') deny = subjectList(mv, mw, queues);
    else throw fail(mw, "expected 'allow' or 'deny'");
  }
  return { allow, deny };
}

function subjectList(v: ConfValue, w: AuthWhere, queues: boolean): PermEntry[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((e, i) => {
    const ew = Array.isArray(v) ? { container: v, key: String(i), path: `${w.path}[${i}]` } : w;
    if (typeof e !== 'string') throw bad(ew, 'a subject string', e);
    const parts = e.trim().split(/\s+/);
    const ok = parts.length === 1 || (queues && parts.length === 2);
    if (!ok || !isValidSubject(parts[0]!)) {
      throw bad(ew, queues ? 'a subject, optionally followed by a queue group ("foo.> q")' : 'a subject', e);
    }
    return { subject: parts[0]!, queue: parts[1] ?? null };
  });
}

/** nats-server parseAllowResponses: `true` (1 reply within 2 minutes), `false`, or `{ max, expires }`. */
function allowResponses(v: ConfValue, w: AuthWhere): ResponsePermission | null {
  if (typeof v === 'boolean') return v ? { maxMsgs: DEFAULT_RESPONSE_MAX_MSGS, expiresMs: DEFAULT_RESPONSE_EXPIRES_MS } : null;
  let maxMsgs = 0;
  let expiresMs = 0;
  for (const [k, mv, mw] of mapEntries(w, v, 'true, false or { max: 1, expires: "2m" }')) {
    if (k === 'max' || k === 'max_msgs' || k === 'max_messages' || k === 'max_responses') {
      if (typeof mv !== 'number' || !Number.isInteger(mv)) throw bad(mw, 'a whole number of replies', mv);
      maxMsgs = mv;
    } else if (k === 'expires' || k === 'expiration' || k === 'ttl') {
      const ms = typeof mv === 'number' ? mv * 1000 : typeof mv === 'string' ? parseGoDuration(mv) : undefined;
      if (ms === undefined || !Number.isFinite(ms)) throw bad(mw, 'a duration such as "2m" or seconds', mv);
      expiresMs = ms;
    } else {
      throw fail(mw, "expected 'max' or 'expires'");
    }
  }
  // Zero or less means the default, as nats-server validateResponsePermissions.
  return {
    maxMsgs: maxMsgs > 0 ? maxMsgs : DEFAULT_RESPONSE_MAX_MSGS,
    expiresMs: expiresMs > 0 ? expiresMs : DEFAULT_RESPONSE_EXPIRES_MS,
  };
}

/** Top-level `no_auth_user`. */
export function parseNoAuthUser(v: ConfValue, w: AuthWhere, prev: AuthSettings): AuthSettings {
  return { ...prev, noAuthUser: name(w, v) };
}

/**
 * Whole-settings checks once every source (conf, flags) is merged: `no_auth_user` must name a
 * password user (nats-server: "not present as user in authorization block or account configuration").
 */
export function validateAuth(a: AuthSettings): void {
  if (a.noAuthUser !== null && !a.users.some((u) => !u.nkey && u.name === a.noAuthUser)) {
    throw new ConfigError(
      `no_auth_user: ${JSON.stringify(a.noAuthUser)} not present as user in authorization block or account configuration`,
      {
        key: 'no_auth_user',
      },
    );
  }
  const userList = a.users.length > 0;
  if ((a.user === null) !== (a.password === null))
    throw new ConfigError('--user and --pass must be given together', { key: 'user' });
  if (a.token !== null && (a.user !== null || userList)) {
    throw new ConfigError('a token cannot be combined with a user or a users list (as nats-server)', { key: 'auth' });
  }
  if (a.user !== null && userList)
    throw new ConfigError('--user/--pass cannot be combined with a users list (as nats-server)', { key: 'user' });
  for (const s of [a.token, a.password]) {
    if (s !== null && isBcrypt(s) && !isWellFormedBcrypt(s))
      throw new ConfigError('a password or token looks like a bcrypt hash but is not a valid one', { key: 'auth' });
  }
}
