/**
 * Stored-message timestamps: nanoseconds since the Unix epoch, anchored to the wall clock once at
 * load and advanced by the monotonic clock, so they never go backwards within a process and two
 * appends never share a stamp. Costs one `hrtime.bigint()` and one BigInt add per call.
 */

const WALL_BASE_NS = BigInt(Date.now()) * 1_000_000n;
const HR_BASE = process.hrtime.bigint();
let lastNs = 0n;

/** Current time in ns since the epoch; strictly increasing across calls in this process. */
export function nowNs(): bigint {
  let t = WALL_BASE_NS + (process.hrtime.bigint() - HR_BASE);
  if (t <= lastNs) t = lastNs + 1n;
  lastNs = t;
  return t;
}
