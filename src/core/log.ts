import { pino, type Logger as PinoLogger } from 'pino';

/** Structured logger used everywhere (pino): `log.info({ field }, 'message')`. */
export type Logger = PinoLogger;

export interface LogOptions {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** `json`: one JSON object a line (for log shippers); `pretty`: short human lines. */
  format: 'pretty' | 'json';
  /** Where lines go; stderr by default, like nats-server. */
  fd?: number;
}

/**
 * Creates a logger writing synchronously to stderr (or `fd`). The pretty format is a small
 * built-in formatter, not pino-pretty, so the server needs no worker thread to log.
 */
export function createLogger(opts: LogOptions): Logger {
  const fd = opts.fd ?? 2;
  if (opts.format === 'json') {
    return pino({ level: opts.level, base: undefined }, pino.destination({ fd, sync: true }));
  }
  const dest = pino.destination({ fd, sync: true });
  const levels: Record<number, string> = { 10: 'TRC', 20: 'DBG', 30: 'INF', 40: 'WRN', 50: 'ERR', 60: 'FTL' };
  const pretty = {
    write(line: string): void {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        dest.write(line);
        return;
      }
      const { level, time, msg, ...rest } = o;
      const extra = Object.keys(rest).length === 0 ? '' : ' ' + JSON.stringify(rest);
      const t = new Date(time as number).toISOString();
      dest.write(`[${process.pid}] ${t} [${levels[level as number] ?? level}] ${String(msg ?? '')}${extra}\n`);
    },
  };
  return pino({ level: opts.level, base: undefined }, pretty);
}

/** A logger that drops everything, for embedding and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
