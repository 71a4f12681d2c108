/**
 * Small, dependency-free statistics used by the bench report: medians and ranges across rounds,
 * percentiles of plain samples, and herald/peer ratios. Latency percentiles inside one run come
 * from hdr-histogram-js (see hdr.ts); these helpers only summarise already-measured numbers.
 */

/** A median with the spread it was taken from (min and max of the samples), and n. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Percentile (0–100) of numeric samples by the nearest-rank method; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  const xs = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  if (p <= 0) return xs[0]!;
  if (p >= 100) return xs[xs.length - 1]!;
  const rank = Math.ceil((p / 100) * xs.length);
  return xs[Math.max(0, rank - 1)]!;
}

/** Median of the finite samples (mean of the middle two for an even count); NaN when empty. */
export function median(samples: readonly number[]): number {
  const xs = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** Median, min and max of the finite samples; null when there are none. */
export function spread(samples: readonly number[]): Spread | null {
  const xs = samples.filter((x) => Number.isFinite(x));
  if (xs.length === 0) return null;
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** a / b, or null when either side is missing, non-finite, or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/**
 * "How much better is herald", with 1.0 at parity and > 1 meaning herald did better:
 * herald/peer for throughputs, peer/herald for latencies (where lower is better).
 */
export function advantage(
  herald: number | null | undefined,
  peer: number | null | undefined,
  higherIsBetter: boolean,
): number | null {
  return higherIsBetter ? ratio(herald, peer) : ratio(peer, herald);
}

/** Formats a count per second compactly: 975k, 1.05M, 812. */
export function fmtRate(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
  if (a >= 1e4) return `${Math.round(x / 1e3)}k`;
  if (a >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return `${Math.round(x)}`;
}

/** Formats a number with a fixed count of significant figures, or '–'. */
export function fmtNum(x: number | null | undefined, digits = 3): string {
  if (x == null || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 10 ** digits) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(digits)).toString();
}

/** Formats a ratio as "1.23×", or '–'. */
export function fmtRatio(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return '–';
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}
