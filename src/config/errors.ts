/**
 * The one error type for everything that turns argv and config files into `ServerOptions`.
 * A `ConfigError` always means "the user asked for something herald cannot do": its message says
 * where (file:line:column or the flag), what was given and what is allowed, so `herald` can print
 * it and exit without a stack trace.
 */

/** Where a config value came from: a file (or `<string>` for text parsed directly) and a position. */
export interface ConfLocation {
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, counted in UTF-16 code units. */
  readonly column: number;
}

/** Optional structured details a `ConfigError` carries besides its message. */
export interface ConfigErrorDetails {
  /** Where in a config file the problem is, when it came from one. */
  location?: ConfLocation;
  /** The config key path (`jetstream.max_file_store`) or flag (`--port`) at fault. */
  key?: string;
}

/**
 * A bad config file, flag or option value. Guarantees: `message` is complete and actionable on
 * its own (it already includes the location and key when known); `location` and `key` repeat
 * them for programs.
 */
export class ConfigError extends Error {
  readonly location: ConfLocation | undefined;
  readonly key: string | undefined;
  /** The message without the location prefix. */
  readonly reason: string;

  constructor(message: string, details: ConfigErrorDetails = {}) {
    super(details.location === undefined ? message : `${formatLocation(details.location)}: ${message}`);
    this.name = 'ConfigError';
    this.reason = message;
    this.location = details.location;
    this.key = details.key;
  }
}

/** `file:line:column`, the prefix used by every located error and warning. */
export function formatLocation(loc: ConfLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** Longest excerpt of a bad value quoted in a message; longer values are cut with an ellipsis. */
const MAX_QUOTED_VALUE = 60;

/**
 * A short, unambiguous rendering of a value for error messages: strings quoted (and cut when
 * long), maps and arrays summarised, everything else as JSON would show it.
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') {
    const s = v.length > MAX_QUOTED_VALUE ? `${v.slice(0, MAX_QUOTED_VALUE)}…` : v;
    return JSON.stringify(s);
  }
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v !== null && typeof v === 'object') return 'a map';
  return String(v);
}
