/**
 * `accounts { }` and `system_account` of a nats conf, read into `AccountsConfig` (and account
 * users into AuthSettings, tagged with their account) the way nats-server's opts.go reads them
 * (parseAccounts, parseAccountImports/Exports, parseJetStreamForAccount). What herald does not
 * implement and would widen access if ignored (account limits, auth callout) is
 * refused; observability-only keys are warned about. `validateAccounts` checks references once
 * every source is merged, with nats-server's start-up messages where it has them.
 */
import {
  GLOBAL_ACCOUNT,
  DEFAULT_SYSTEM_ACCOUNT,
  DEFAULT_RESPONSE_THRESHOLD_MS,
  UNLIMITED_JETSTREAM,
  findExport,
  type AccountJetStreamLimits,
  type AccountSpec,
  type AccountsConfig,
  type ExportSpec,
  type ImportSpec,
  type ResponseType,
} from '../core/accounts.js';
import type { AuthSettings, AuthUser, Permissions } from '../core/auth.js';
import { hasWildcard, isValidSubject, subjectsCollide } from '../core/subject.js';
import { ConfigError } from './errors.js';
import { bad, fail, mapEntries, parsePermissions, parseUsers, type AuthHooks, type AuthWhere } from './auth-conf.js';
import type { ConfValue } from './nats-conf.js';
import type { MappingSpec } from '../core/mapping.js';
import { parseMappings } from './mappings-conf.js';
import { parseGoDuration, parseSizeText } from './values.js';

/** Account keys herald refuses: ignoring them would let clients do more than the config says. */
const REFUSED_ACCOUNT_KEYS: Readonly<Record<string, string>> = {
  auth_callout: 'herald does not implement auth callout (docs/security.md)',
  limits: 'herald does not enforce per-account connection/subscription/payload limits; remove it',
  max_connections: 'herald does not enforce per-account connection limits; remove it',
  max_conn: 'herald does not enforce per-account connection limits; remove it',
  max_subscriptions: 'herald does not enforce per-account subscription limits; remove it',
  max_subs: 'herald does not enforce per-account subscription limits; remove it',
  max_payload: 'herald does not enforce per-account payload limits; remove it',
  max_leafnodes: 'herald has no leaf nodes; remove it',
  nkey: 'herald has no JWT/operator mode; an account nkey has no meaning here',
};

/** What `accounts { }` yields: the declarations and the users to add to AuthSettings. */
export interface ParsedAccounts {
  readonly accounts: AccountSpec[];
  readonly users: AuthUser[];
}

/** Reads `accounts { NAME: { users, jetstream, exports, imports, default_permissions } }`. */
export function parseAccounts(v: ConfValue, w: AuthWhere, hooks: Pick<AuthHooks, 'warn'>): ParsedAccounts {
  const accounts: AccountSpec[] = [];
  const users: AuthUser[] = [];
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date)
    throw bad(w, 'a map of accounts such as { A: { users: [...] } }', v);
  for (const name of Object.keys(v)) {
    const aw: AuthWhere = { container: v, key: name, path: `${w.path}.${name}` };
    const av = v[name]!;
    let jetstream: AccountJetStreamLimits | null = null;
    let exports: ExportSpec[] = [];
    let imports: ImportSpec[] = [];
    let accUsers: AuthUser[] = [];
    let defaults: Permissions | null = null;
    let mappings: MappingSpec[] = [];
    // nats-server also accepts `A: {}` and a bare list of users is not valid; a string is an error.
    for (const [k, mv, mw] of mapEntries(aw, av, 'an account map such as { users: [...], jetstream: enabled }')) {
      switch (k) {
        case 'users':
          accUsers = parseUsers(mv, mw, name);
          break;
        case 'jetstream':
          jetstream = parseAccountJetStream(mv, mw);
          break;
        case 'exports':
          exports = list(mv, mw).map(([e, ew]) => parseExport(e, ew, hooks));
          break;
        case 'imports':
          imports = list(mv, mw).map(([e, ew]) => parseImport(e, ew, hooks));
          break;
        case 'mappings':
        case 'maps':
          mappings = parseMappings(mv, mw, hooks.warn);
          break;
        case 'default_permissions':
        case 'default_permission':
          defaults = parsePermissions(mv, mw);
          break;
        default:
          if (Object.hasOwn(REFUSED_ACCOUNT_KEYS, k)) throw fail(mw, REFUSED_ACCOUNT_KEYS[k]!);
          throw fail(
            mw,
            'herald does not implement this account setting; remove it (ignoring it could let clients do more than configured)',
          );
      }
    }
    if (defaults !== null) accUsers = accUsers.map((u) => (u.permissions === null ? { ...u, permissions: defaults } : u));
    users.push(...accUsers);
    accounts.push({ name, jetstream, exports, imports, ...(mappings.length > 0 ? { mappings } : {}) });
  }
  checkImports(accounts);
  return { accounts, users };
}

function list(v: ConfValue, w: AuthWhere): [ConfValue, AuthWhere][] {
  if (!Array.isArray(v)) throw bad(w, 'a list', v);
  return v.map((e, i) => [e, { container: v, key: String(i), path: `${w.path}[${i}]` }]);
}

function subject(w: AuthWhere, v: ConfValue): string {
  if (typeof v !== 'string' || !isValidSubject(v)) throw bad(w, 'a subject', v);
  return v;
}

function limit(w: AuthWhere, v: ConfValue, bytes: boolean): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && bytes ? parseSizeText(v) : undefined;
  if (n === undefined || !Number.isInteger(n) || n < -1) throw bad(w, bytes ? 'a size such as 1G, or -1' : 'a count, or -1', v);
  return n;
}

/** `jetstream: enabled | disabled | { max_mem, max_file, max_streams, max_consumers }` (nats-server parseJetStreamForAccount). */
function parseAccountJetStream(v: ConfValue, w: AuthWhere): AccountJetStreamLimits | null {
  if (typeof v === 'boolean') return v ? UNLIMITED_JETSTREAM : null;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'enabled' || t === 'enable' || t === 'true') return UNLIMITED_JETSTREAM;
    if (t === 'disabled' || t === 'disable' || t === 'false') return null;
    throw bad(w, "'enabled', 'disabled' or a map { max_mem, max_file, max_streams, max_consumers }", v);
  }
  let { maxMemory, maxStorage, maxStreams, maxConsumers } = UNLIMITED_JETSTREAM;
  for (const [k, mv, mw] of mapEntries(
    w,
    v,
    "'enabled', 'disabled' or a map { max_mem, max_file, max_streams, max_consumers }",
  )) {
    if (k === 'max_memory' || k === 'max_mem' || k === 'mem' || k === 'memory') maxMemory = limit(mw, mv, true);
    else if (k === 'max_store' || k === 'max_file' || k === 'max_disk' || k === 'store' || k === 'disk')
      maxStorage = limit(mw, mv, true);
    else if (k === 'max_streams' || k === 'streams') maxStreams = limit(mw, mv, false);
    else if (k === 'max_consumers' || k === 'consumers') maxConsumers = limit(mw, mv, false);
    else
      throw fail(
        mw,
        "expected one of 'max_mem', 'max_file', 'max_streams', 'max_consumers' (herald does not enforce other account JetStream limits)",
      );
  }
  return { maxMemory, maxStorage, maxStreams, maxConsumers };
}

/** `{ stream: "x.>" } | { service: "svc.>", response_type, response_threshold }`, optionally with `accounts: [..]`. */
function parseExport(v: ConfValue, w: AuthWhere, hooks: Pick<AuthHooks, 'warn'>): ExportSpec {
  let kind: 'stream' | 'service' | null = null;
  let subj = '';
  let accounts: string[] | null = null;
  let responseType: ResponseType = 'singleton';
  let responseThresholdMs = DEFAULT_RESPONSE_THRESHOLD_MS;
  for (const [k, mv, mw] of mapEntries(w, v, 'a map such as { stream: "x.>" } or { service: "svc.>" }')) {
    if (k === 'stream' || k === 'service') {
      if (kind !== null) throw fail(mw, 'an export is either a stream or a service');
      kind = k;
      subj = subject(mw, mv);
    } else if (k === 'accounts') {
      accounts = list(mv, mw).map(([a, aw]) => {
        if (typeof a !== 'string' || a === '') throw bad(aw, 'an account name', a);
        return a;
      });
    } else if (k === 'response' || k === 'response_type') {
      const t = typeof mv === 'string' ? mv.toLowerCase() : '';
      if (t !== 'singleton' && t !== 'stream' && t !== 'chunked') throw bad(mw, "'singleton', 'stream' or 'chunked'", mv);
      responseType = t;
    } else if (k === 'threshold' || k === 'response_threshold' || k === 'response_max_time' || k === 'response_time') {
      const ms = typeof mv === 'number' ? mv * 1000 : typeof mv === 'string' ? parseGoDuration(mv) : undefined;
      if (ms === undefined || !(ms > 0) || !Number.isFinite(ms)) throw bad(mw, 'a duration such as "2m"', mv);
      responseThresholdMs = ms;
    } else if (k === 'latency' || k === 'allow_trace') {
      hooks.warn(mw, `'${mw.path}' is ignored: herald does not emit service latency or trace events`);
    } else {
      throw fail(mw, "expected 'stream' or 'service', with 'accounts', 'response_type', 'response_threshold'");
    }
  }
  if (kind === null) throw fail(w, "an export needs 'stream' or 'service'");
  if (kind === 'stream' && responseType !== 'singleton') throw fail(w, 'response_type applies to service exports only');
  return { kind, subject: subj, accounts, responseType, responseThresholdMs };
}

/** `{ stream: { account, subject }, prefix | to } | { service: { account, subject }, to }`. */
function parseImport(v: ConfValue, w: AuthWhere, hooks: Pick<AuthHooks, 'warn'>): ImportSpec {
  let kind: 'stream' | 'service' | null = null;
  let account = '';
  let subj = '';
  let to: string | null = null;
  let prefix: string | null = null;
  for (const [k, mv, mw] of mapEntries(w, v, 'a map such as { stream: { account: A, subject: "x.>" } }')) {
    if (k === 'stream' || k === 'service') {
      if (kind !== null) throw fail(mw, 'an import is either a stream or a service');
      kind = k;
      for (const [ik, iv, iw] of mapEntries(mw, mv, '{ account: A, subject: "x.>" }')) {
        if (ik === 'account') {
          if (typeof iv !== 'string' || iv === '') throw bad(iw, 'an account name', iv);
          account = iv;
        } else if (ik === 'subject') subj = subject(iw, iv);
        else throw fail(iw, "expected 'account' and 'subject'");
      }
      if (account === '') throw fail(mw, `expect an account name for ${k} import`);
      if (subj === '') throw fail(mw, `expect a subject for ${k} import`);
    } else if (k === 'prefix') {
      prefix = subject(mw, mv);
      if (hasWildcard(prefix)) throw bad(mw, 'a prefix without wildcards', mv);
    } else if (k === 'to' || k === 'local_subject') {
      to = subject(mw, mv);
    } else if (k === 'share') {
      hooks.warn(mw, `'${mw.path}' is ignored: herald does not emit service latency events`);
    } else {
      throw fail(mw, "expected 'stream' or 'service', with 'prefix' or 'to'");
    }
  }
  if (kind === null) throw fail(w, "an import needs 'stream' or 'service'");
  if (kind === 'service' && prefix !== null) throw fail(w, "'prefix' applies to stream imports; use 'to' for a service");
  if (prefix !== null && to !== null) throw fail(w, "a stream import takes 'prefix' or 'to', not both");
  if (to !== null && !wildcardsFit(kind === 'stream' ? subj : to, kind === 'stream' ? to : subj))
    throw fail(w, `'to' ${JSON.stringify(to)} must use the wildcards of ${JSON.stringify(subj)} (herald maps * and > in order)`);
  return { kind, account, subject: subj, to, prefix };
}

/** True when every wildcard of `to` can be filled from `from`'s (same `*` count or fewer, `>` only if `from` has one). */
function wildcardsFit(from: string, to: string): boolean {
  const count = (s: string, t: string): number => s.split('.').filter((x) => x === t).length;
  return count(to, '*') <= count(from, '*') && count(to, '>') <= count(from, '>');
}

/** `system_account: NAME`. */
export function parseSystemAccount(v: ConfValue, w: AuthWhere): string {
  if (typeof v !== 'string' || v === '') throw bad(w, 'an account name', v);
  return v;
}

/** Adds account users to `prev` (kept apart from `authorization { }` users, see parseAuthorization). */
export function withAccountUsers(prev: AuthSettings, users: readonly AuthUser[]): AuthSettings {
  return { ...prev, users: [...prev.users.filter((u) => u.account === undefined), ...users] };
}

/**
 * Reference checks once everything is merged, with nats-server's start-up texts (opts.go
 * parseAccounts, server.go configureAccounts): an import names a declared account whose export
 * authorizes it; service imports form no cycle; the system account exists when named; a user
 * name is used once across all accounts.
 */
export function validateAccounts(cfg: AccountsConfig, auth: AuthSettings): void {
  const byName = new Map(cfg.accounts.map((a) => [a.name, a]));
  if (cfg.systemAccount !== DEFAULT_SYSTEM_ACCOUNT && !byName.has(cfg.systemAccount))
    throw new ConfigError('error resolving system account: account missing', { key: 'system_account' });
  checkImports(cfg.accounts);
  const cycle = serviceCycle(cfg.accounts);
  if (cycle !== null)
    throw new ConfigError(`Error adding service import ${JSON.stringify(cycle)}: import forms a cycle`, { key: 'accounts' });
  const seen = new Set<string>();
  for (const u of auth.users) {
    if (seen.has(u.name)) throw new ConfigError(`Duplicate user ${JSON.stringify(u.name)} detected`, { key: 'accounts' });
    seen.add(u.name);
  }
}

/** Every import names a declared account whose export authorizes it (nats-server's texts). */
function checkImports(accounts: readonly AccountSpec[]): void {
  const byName = new Map(accounts.map((a) => [a.name, a]));
  for (const a of accounts) {
    if (a.name === GLOBAL_ACCOUNT && (a.imports.length > 0 || a.exports.length > 0))
      throw new ConfigError(
        `accounts.${GLOBAL_ACCOUNT}: the global account cannot be declared with imports or exports in herald`,
        {
          key: 'accounts',
        },
      );
    // A JetStream account's name is a directory under <data>/jetstream (beside $G's `streams`).
    if (a.jetstream !== null && a.name !== GLOBAL_ACCOUNT && (/[\\/\0]/.test(a.name) || ['.', '..', 'streams'].includes(a.name)))
      throw new ConfigError(
        `accounts.${a.name}: herald stores this account's streams in a directory named after it; choose another name`,
        {
          key: `accounts.${a.name}`,
        },
      );
    for (const imp of a.imports) {
      const exporter = byName.get(imp.account);
      if (exporter === undefined)
        throw new ConfigError(`${JSON.stringify(imp.account)} account not defined for ${imp.kind} import`, {
          key: `accounts.${a.name}.imports`,
        });
      if (findExport(exporter, imp.kind, imp.subject, a.name) === null)
        throw new ConfigError(
          `Error adding ${imp.kind} import ${JSON.stringify(imp.subject)}: ${imp.kind} import not authorized`,
          { key: `accounts.${a.name}.imports` },
        );
    }
  }
}

/**
 * The subject of a service import whose requests can come back to its own account through other
 * service imports, or null (nats-server accounts.go, checkServiceImportsForCycles: a request on
 * the exporter's subject follows that account's imports whose local subject overlaps it).
 */
function serviceCycle(accounts: readonly AccountSpec[]): string | null {
  const byName = new Map(accounts.map((a) => [a.name, a]));
  for (const a of accounts) {
    for (const first of a.imports) {
      if (first.kind !== 'service') continue;
      const seen = new Set<string>();
      const stack: [string, string][] = [[first.account, first.subject]];
      while (stack.length > 0) {
        const [acc, subj] = stack.pop()!;
        if (acc === a.name) return first.subject;
        const key = `${acc} ${subj}`;
        if (seen.has(key)) continue;
        seen.add(key);
        for (const i of byName.get(acc)?.imports ?? []) {
          if (i.kind === 'service' && subjectsCollide(i.to ?? i.subject, subj)) stack.push([i.account, i.subject]);
        }
      }
    }
  }
  return null;
}
