/**
 * Latency histograms for the open-loop bench (hdr-histogram-js, ns, 3 significant digits) and the
 * two ways of correcting for coordinated omission:
 * - open loop (what the bench does): latency = arrival − *intended* send time, so a message the
 *   generator or the server held back is charged for the wait (`recordFromIntended`);
 * - closed loop (for reference, and for tests): HdrHistogram's expected-interval back-fill, which
 *   adds the samples a stalled loop failed to take (`recordCorrected`).
 * Histograms cross process boundaries as compressed base64 and are merged by adding counts.
 */
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '../lib/hdr.js';

/** Highest value tracked without clamping: 60 s in ns (an overloaded server shows, not crashes). */
const HIGHEST_NS = 60_000_000_000;
/** 0.1% resolution at every magnitude. */
const DIGITS = 3;

/** A latency histogram in ns. Cost: ~30 KB per instance; record is O(1). */
export class LatencyHistogram {
  readonly h: hdr.Histogram;

  constructor(from?: hdr.Histogram) {
    this.h =
      from ?? hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_NS, numberOfSignificantValueDigits: DIGITS });
  }

  private static clamp(ns: number): number {
    return Math.min(HIGHEST_NS, Math.max(1, Math.round(ns)));
  }

  /** Open-loop correction: records arrival − intended (ms in, ns stored). */
  recordFromIntended(intendedMs: number, arrivedMs: number): void {
    this.h.recordValue(LatencyHistogram.clamp((arrivedMs - intendedMs) * 1e6));
  }

  /** Records a plain value in ns. */
  recordNs(ns: number): void {
    this.h.recordValue(LatencyHistogram.clamp(ns));
  }

  /** Closed-loop correction: records `ns` and back-fills the samples a stall of that length hid. */
  recordCorrected(ns: number, expectedIntervalNs: number): void {
    this.h.recordValueWithExpectedInterval(LatencyHistogram.clamp(ns), Math.max(1, Math.round(expectedIntervalNs)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Adds another histogram's counts into this one. */
  add(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  /** Compressed base64, for the IPC channel. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  /** The inverse of `encode`. */
  static decode(s: string): LatencyHistogram {
    return new LatencyHistogram(hdr.decodeFromCompressedBase64(s) as hdr.Histogram);
  }

  /** Count, percentiles, max and mean in µs (0.1 µs precision). */
  summary(): LatencySummary {
    const us = (ns: number): number => Math.round(ns / 100) / 10;
    const h = this.h;
    return {
      count: h.totalCount,
      p50: us(h.getValueAtPercentile(50)),
      p90: us(h.getValueAtPercentile(90)),
      p99: us(h.getValueAtPercentile(99)),
      p999: us(h.getValueAtPercentile(99.9)),
      max: us(h.maxValue),
      mean: us(h.mean),
    };
  }

  destroy(): void {
    this.h.destroy();
  }
}

/** Merges encoded histograms into one summary; null when none holds a value. */
export function mergeSummaries(encoded: readonly (string | null | undefined)[]): LatencySummary | null {
  const all = new LatencyHistogram();
  for (const e of encoded) {
    if (!e) continue;
    const h = LatencyHistogram.decode(e);
    all.add(h);
    h.destroy();
  }
  const s = all.count > 0 ? all.summary() : null;
  all.destroy();
  return s;
}
