/**
 * Times as nats-server writes them: Go's `time.Time` JSON form (RFC 3339 with nanoseconds, UTC,
 * trailing zeros of the fraction trimmed) and the zero time `0001-01-01T00:00:00Z` for "never"
 * (specs/nats.md §4 "STREAM.INFO"). Costs one Date and a little string work per call; used for
 * API responses and DIRECT.GET headers, never on the publish path.
 */

/** Go's zero `time.Time` in JSON: what an empty stream reports as first_ts / last_ts. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** `ns` since the Unix epoch as Go's RFC3339Nano in UTC; 0n gives the Go zero time. */
export function goTime(ns: bigint): string {
  if (ns === 0n) return GO_ZERO_TIME;
  let secs = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    secs -= 1n;
  }
  const iso = new Date(Number(secs) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const base = iso.slice(0, 19);
  if (frac === 0n) return base + 'Z';
  const digits = frac.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}.${digits}Z`;
}

/** Current wall-clock time as Go's RFC3339Nano (millisecond precision is plenty for `ts`). */
export function goNow(): string {
  return goTime(BigInt(Date.now()) * 1_000_000n);
}

/** Parses an RFC 3339 time (as written by `goTime`) back to ns; null when it does not parse. */
export function parseGoTime(s: string): bigint | null {
  if (s === GO_ZERO_TIME) return 0n;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (m === null) return null;
  const ms = Date.parse(m[1] + m[3]);
  if (Number.isNaN(ms)) return null;
  const frac = m[2] === undefined ? 0n : BigInt(m[2].padEnd(9, '0'));
  return BigInt(ms) * 1_000_000n + frac;
}
