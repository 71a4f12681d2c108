/**
 * Text → value conversions shared by config files and flags: sizes (`1MB`), Go-style durations
 * (`"2m"`, `"200ms"`), sync policies, ports and host:port pairs, log levels. Each returns
 * `undefined` for text it does not accept, so the caller can name the key or flag in its error.
 */
import type { SyncPolicy } from '../store/store.js';
import type { ServerOptions } from './options.js';

/** Multipliers for size suffixes in flags and quoted config strings: binary, any case (`1M` = `1MB` = `1MiB` = 1048576). */
const BINARY_SUFFIXES: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  ki: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  mi: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  gi: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
  ti: 1024 ** 4,
};

/**
 * A byte size written as text: a whole number, optionally followed by a suffix K, KB, KiB, M,
 * MB, MiB, G, …, T… (any case, all powers of 1024, like nats-server's quoted storage sizes).
 * `-1` is returned as -1 (callers that allow "unlimited" accept it). Undefined when the text is
 * not a size or the result is not a safe integer.
 */
export function parseSizeText(text: string): number | undefined {
  const m = /^\s*(-?\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (m === null) return undefined;
  const suffix = m[2]!.toLowerCase();
  if (!Object.hasOwn(BINARY_SUFFIXES, suffix)) return undefined;
  const mult = BINARY_SUFFIXES[suffix]!;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? (n === 0 ? 0 : n) : undefined;
}

/** Milliseconds per Go duration unit. */
const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * A duration in Go's `time.ParseDuration` syntax (what nats-server reads): one or more
 * `<number><unit>` with units ns, us, ms, s, m, h, e.g. `2m`, `1h30m`, `1.5s`, `200ms`; a bare
 * `0` is allowed. Returns milliseconds (possibly fractional), or undefined for anything else.
 */
export function parseGoDuration(text: string): number | undefined {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    i = re.lastIndex;
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

/** A human rendering of milliseconds as a Go-style duration (`2m0s` → `2m`, `200ms`), for help text. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A byte count for help text: exact binary units when they divide evenly (`1MB`), else bytes. */
export function formatSize(n: number): string {
  if (n < 0) return 'unlimited';
  for (const [unit, mult] of [
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['KB', 1024],
  ] as const) {
    if (n >= mult && n % mult === 0) return `${n / mult}${unit}`;
  }
  return `${n}`;
}

/**
 * A sync policy: `always`, `never`, or an interval as a Go duration (`200ms`, `1s`). Undefined
 * for anything else, including a zero or negative interval.
 */
export function parseSyncText(text: string): SyncPolicy | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'always') return { kind: 'always' };
  if (t === 'never') return { kind: 'never' };
  const ms = parseGoDuration(t);
  return ms !== undefined && ms > 0 ? { kind: 'interval', ms } : undefined;
}

/** `always`, `never` or the interval, as written in config files and flags. */
export function formatSync(p: SyncPolicy): string {
  return p.kind === 'interval' ? formatDuration(p.ms) : p.kind;
}

/** What a user may write for `sync`, for error messages. */
export const SYNC_ALLOWED = `'always', 'never' or an interval such as "200ms" or "1s"`;

/** Every log level herald accepts, quietest last. */
export const LOG_LEVELS: readonly ServerOptions['logLevel'][] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
/** Every log format herald accepts. */
export const LOG_FORMATS: readonly ServerOptions['logFormat'][] = ['pretty', 'json'];

/** True when `s` is one of `LOG_LEVELS`. */
export function isLogLevel(s: string): s is ServerOptions['logLevel'] {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** True when `s` is one of `LOG_FORMATS`. */
export function isLogFormat(s: string): s is ServerOptions['logFormat'] {
  return (LOG_FORMATS as readonly string[]).includes(s);
}

/** Largest TCP port. */
export const MAX_PORT = 65535;

/** An integer written as text (decimal, optional sign); undefined otherwise. */
export function parseIntText(text: string): number | undefined {
  if (!/^\s*[-+]?\d+\s*$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Splits `host:port` (`127.0.0.1:4222`, `[::1]:4222`, `:4222`, `localhost:-1`) the way Go's
 * net.SplitHostPort does. The port is returned as an integer, unchecked for range. Undefined when
 * the text has no port or the port is not an integer.
 */
export function splitHostPort(text: string): { host: string; port: number } | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const i = text.lastIndexOf(':');
    if (i < 0) return undefined;
    host = text.slice(0, i);
    portText = text.slice(i + 1);
    if (host.includes(':')) return undefined; // a bare IPv6 address needs brackets
  }
  const port = /^-?\d+$/.test(portText) ? Number(portText) : NaN;
  return Number.isSafeInteger(port) ? { host, port } : undefined;
}

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours as one each. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Largest edit distance offered as a "did you mean" hint; shorter words get less slack (one per 3 characters). */
const MAX_SUGGESTION_DISTANCE = 2;
/** Longest word compared at all: hints are for typos, and the distance table is quadratic. */
const MAX_SUGGESTION_INPUT = 64;

/** The candidate closest to `word` (a typo-sized edit away), or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  if (w.length > MAX_SUGGESTION_INPUT) return undefined;
  const slack = Math.min(MAX_SUGGESTION_DISTANCE, Math.floor(w.replace(/^-+/, '').length / 3));
  let best: string | undefined;
  let bestD = slack + 1;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
