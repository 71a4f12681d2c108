/**
 * The kit the flag tables are built from: the Flag and State shapes, value parsers for ports,
 * sizes and durations, and setters that turn a flag's text into an option change (or a clear
 * ConfigError naming the flag). Shared by herald's own table (args.ts) and the nats-server one
 * (nats-flags.ts), so both invocations parse values exactly alike.
 */
import { ConfigError } from '../config/errors.js';
import { NATS_DEFAULT_PORT } from '../config/load.js';
import type { ServerOptions } from '../config/options.js';
import { MAX_PORT, parseGoDuration, parseIntText, parseSizeText } from '../config/values.js';

/** Mutable state while flags are read. */
export interface State {
  /** Option setters in argv order, applied after the config file so flags win. */
  sets: ((o: ServerOptions) => void)[];
  config?: string;
  help: boolean;
  version: boolean;
  debug: boolean;
  trace: boolean;
  warnings: string[];
  /** The `--tls*` flags, applied together after the config file (nats-server overrideTLS). */
  tls: { seen: boolean; off: boolean; verify?: boolean; cert?: string; key?: string; ca?: string };
  /** `--auth-timeout` was given, or the config file set the auth timeout (TLS flags then leave it alone). */
  authTimeoutSet?: boolean;
}

/** One flag: its spellings, its value placeholder (absent for a switch) and what it does. */
export interface Flag {
  /** Spellings; the first is shown first in help. */
  names: readonly string[];
  /** Placeholder of the value, e.g. `PORT`; absent for switches. */
  arg?: string;
  help: string;
  /** The default shown in help, from the defaults of the invocation. */
  def?: (d: ServerOptions) => string;
  /** Applies the flag. `value` is the text for value flags, the boolean for switches. */
  run: (s: State, value: string | boolean, name: string) => void;
  /** Help section. */
  section: string;
}

export function badValue(name: string, allowed: string, value: string): ConfigError {
  return new ConfigError(`${name}: expected ${allowed}, got ${JSON.stringify(value)}`, { key: name });
}

export function text(v: string | boolean): string {
  return typeof v === 'string' ? v : String(v);
}

/** A setter for a value flag whose text `parse` converts (undefined = invalid → error naming `allowed`). */
export function setter<T>(
  allowed: string,
  parse: (t: string) => T | undefined,
  assign: (o: ServerOptions, v: T) => void,
): Flag['run'] {
  return (s, value, name) => {
    const v = parse(text(value));
    if (v === undefined) throw badValue(name, allowed, text(value));
    s.sets.push((o) => assign(o, v));
  };
}

export function intIn(min: number, max: number): (t: string) => number | undefined {
  return (t) => {
    const n = parseIntText(t);
    return n !== undefined && n >= min && n <= max ? n : undefined;
  };
}

export function sizeIn(min: number, max = Number.MAX_SAFE_INTEGER): (t: string) => number | undefined {
  return (t) => {
    const n = parseSizeText(t);
    return n !== undefined && n >= min && n <= max ? n : undefined;
  };
}

export function positiveDuration(t: string): number | undefined {
  const ms = parseGoDuration(t);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

export function nonEmpty(t: string): string | undefined {
  return t.trim() === '' ? undefined : t;
}

/** Words that turn an optional listener off. */
export const OFF_WORDS = ['off', 'none', 'false', 'disabled'];

/** herald's port rule: 0 or -1 = random (→ 0). */
export function heraldPort(t: string): number | undefined {
  const n = intIn(-1, MAX_PORT)(t);
  return n === -1 ? 0 : n;
}

export function heraldOptionalPort(t: string): number | null | undefined {
  return OFF_WORDS.includes(t.trim().toLowerCase()) ? null : heraldPort(t);
}

/** nats-server's port rule: -1 = random (→ 0), 0 = the default 4222. */
export function natsPort(t: string): number | undefined {
  const n = intIn(-1, MAX_PORT)(t);
  return n === -1 ? 0 : n === 0 ? NATS_DEFAULT_PORT : n;
}

/** nats-server's monitoring port rule: -1 = random (→ 0), 0 = off. */
export function natsHttpPort(t: string): number | null | undefined {
  const n = intIn(-1, MAX_PORT)(t);
  return n === -1 ? 0 : n === 0 ? null : n;
}

export function serverName(t: string): string | undefined {
  return /\s/.test(t) ? undefined : t;
}

export const DURATION_ALLOWED = 'a duration such as 500ms, 30s, 2m or 1h30m';
export const SIZE_HINT = 'e.g. 1048576, 512KB or 8MB';

// ---- herald's flags ----

/** A flag carrying a secret or user name: set verbatim, never echoed in an error. */
export function authSetter(assign: (o: ServerOptions, v: string) => void): Flag['run'] {
  return (s, v, name) => {
    if (typeof v !== 'string' || v === '') throw new ConfigError(`${name}: expected a non-empty value`, { key: name });
    s.sets.push((o) => assign(o, v));
  };
}

/** Authentication flags, the same spelling in herald and nats-server (docs/security.md). */
export const AUTH_FLAGS: readonly Flag[] = [
  {
    section: 'Security',
    names: ['--user'],
    arg: 'USER',
    help: 'User required for connections (with --pass)',
    run: authSetter((o, v) => (o.auth = { ...o.auth, user: v })),
  },
  {
    section: 'Security',
    names: ['--pass'],
    arg: 'PASS',
    help: 'Password required for connections (plain or bcrypt)',
    run: authSetter((o, v) => (o.auth = { ...o.auth, password: v })),
  },
  {
    section: 'Security',
    names: ['--auth'],
    arg: 'TOKEN',
    help: 'Authorization token required for connections',
    run: authSetter((o, v) => (o.auth = { ...o.auth, token: v })),
  },
];

// ---- nats-server's flags ----

/** A nats-server flag herald accepts but does nothing with: a warning says so. */
export function ignored(why: string): Flag['run'] {
  return (s, _v, name) => s.warnings.push(`${name} is ignored: ${why}`);
}

/** A nats-server flag herald refuses, with the reason. */
export function refused(why: string): Flag['run'] {
  return (_s, _v, name) => {
    throw new ConfigError(`${name} is not supported: ${why}`, { key: name });
  };
}

export const NO_CLUSTER = 'herald runs as a single server (no clustering)';
export const STDERR_ONLY = 'herald logs to stderr';
