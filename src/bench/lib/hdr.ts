/**
 * Latency recording with hdr-histogram-js: values in nanoseconds, summarised in microseconds.
 * One histogram per measured loop; only the summary crosses the process boundary.
 */
import * as hdr from 'hdr-histogram-js';

/** Highest latency recorded without clamping: 60 s, in ns (a stalled server shows up, not a crash). */
const HIGHEST_TRACKABLE_NS = 60_000_000_000;
/** Three significant digits: 0.1% resolution at every magnitude. */
const SIGNIFICANT_DIGITS = 3;

/** Percentiles of one latency loop, in microseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** A latency recorder over hdr-histogram-js. */
export class LatencyRecorder {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_NS,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
  });

  /** Records one latency in nanoseconds (clamped to the trackable range). */
  recordNs(ns: number): void {
    this.h.recordValue(Math.min(HIGHEST_TRACKABLE_NS, Math.max(1, Math.round(ns))));
  }

  /** Count, percentiles, max and mean in microseconds. */
  summary(): LatencySummary {
    const us = (ns: number): number => Math.round(ns / 100) / 10;
    return {
      count: this.h.totalCount,
      p50: us(this.h.getValueAtPercentile(50)),
      p90: us(this.h.getValueAtPercentile(90)),
      p99: us(this.h.getValueAtPercentile(99)),
      p999: us(this.h.getValueAtPercentile(99.9)),
      max: us(this.h.maxValue),
      mean: us(this.h.mean),
    };
  }

  /** Frees the histogram. */
  destroy(): void {
    this.h.destroy();
  }
}
