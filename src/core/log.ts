/**
 * herald's structured logger: `log.info({ field }, 'message')`, pino's call shape and pino's JSON
 * line format, written synchronously to stderr. It is built in rather than pino itself because
 * pino costs ~25 ms of module loading at every start, and a drop-in nats-server for a test
 * harness starts a server per test under a 1 s deadline. Any pino logger can still be passed to
 * `Server.start({ logger })`: it satisfies `Logger`.
 */
import { writeSync } from 'node:fs';

/** One log method: `(fields, message)` or `(message)`. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * What herald logs through. Guarantees: never throws, never blocks on anything but the write of
 * one line; lines below `level` cost one comparison. Costs one JSON.stringify per line written.
 */
export interface Logger {
  /** `trace` … `fatal`, or `silent`; may be changed at run time (config reload). */
  level: string;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger whose lines carry `bindings` too. */
  child(bindings: Record<string, unknown>): Logger;
}

export interface LogOptions {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** `json`: one JSON object a line (for log shippers); `pretty`: short human lines. */
  format: 'pretty' | 'json';
  /** Where lines go; stderr by default, like nats-server. */
  fd?: number;
}

/** pino's numeric levels, so JSON lines read the same to log shippers. */
const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const TAGS: Readonly<Record<number, string>> = { 10: 'TRC', 20: 'DBG', 30: 'INF', 40: 'WRN', 50: 'ERR', 60: 'FTL' };

/** pino's stdSerializers.err: an Error becomes `{type, message, stack, …own fields}`. */
function serializeErrors(o: Record<string, unknown>): Record<string, unknown> {
  let out = o;
  for (const [k, v] of Object.entries(o)) {
    if (!(v instanceof Error)) continue;
    if (out === o) out = { ...o };
    out[k] = { type: v.constructor.name, message: v.message, stack: v.stack, ...(v as unknown as Record<string, unknown>) };
  }
  return out;
}

class LineLogger implements Logger {
  private threshold: number;
  readonly trace: LogFn = this.method(10);
  readonly debug: LogFn = this.method(20);
  readonly info: LogFn = this.method(30);
  readonly warn: LogFn = this.method(40);
  readonly error: LogFn = this.method(50);
  readonly fatal: LogFn = this.method(60);

  constructor(
    private lvl: string,
    private readonly fd: number,
    private readonly pretty: boolean,
    private readonly bindings: Record<string, unknown>,
  ) {
    this.threshold = LEVELS[lvl] ?? 30;
  }

  get level(): string {
    return this.lvl;
  }

  set level(l: string) {
    this.lvl = l;
    this.threshold = LEVELS[l] ?? 30;
  }

  child(bindings: Record<string, unknown>): Logger {
    return new LineLogger(this.lvl, this.fd, this.pretty, { ...this.bindings, ...bindings });
  }

  private method(n: number): LogFn {
    return ((a: object | string, msg?: string) => {
      if (n < this.threshold) return;
      const fields = typeof a === 'string' ? {} : serializeErrors(a as Record<string, unknown>);
      const text = typeof a === 'string' ? a : msg;
      this.write(n, { ...this.bindings, ...fields }, text);
    }) as LogFn;
  }

  private write(n: number, fields: Record<string, unknown>, msg: string | undefined): void {
    const time = Date.now();
    let line: string;
    if (this.pretty) {
      const extra = Object.keys(fields).length === 0 ? '' : ' ' + JSON.stringify(fields);
      line = `[${process.pid}] ${new Date(time).toISOString()} [${TAGS[n]}] ${msg ?? ''}${extra}\n`;
    } else {
      line = JSON.stringify({ level: n, time, ...fields, ...(msg === undefined ? {} : { msg }) }) + '\n';
    }
    try {
      writeSync(this.fd, line);
    } catch {
      // A closed or full stderr must not take the server down.
    }
  }
}

/** Creates a logger writing synchronously to stderr (or `fd`), in pino's JSON or a short pretty form. */
export function createLogger(opts: LogOptions): Logger {
  return new LineLogger(opts.level, opts.fd ?? 2, opts.format !== 'json', {});
}

/** A logger that drops everything, for embedding and tests. */
export function silentLogger(): Logger {
  return new LineLogger('silent', 2, false, {});
}
