/**
 * What every latency-bench message carries at the front of its payload, written in place into a
 * copy of a pre-encoded frame: the intended send time (from the schedule), the time it was
 * actually written, the publisher's id and sequence number, and the level's run tag. Times are
 * CLOCK_MONOTONIC milliseconds (process.hrtime), comparable across processes on one machine.
 */

/** intended f64 | written f64 | publisher u32 | seq u32 | tag u32 | flags u32. */
export const STAMP_BYTES = 32;
/** Flag bit: sent during the warm-up; counted for loss, not recorded as latency. */
export const FLAG_WARMUP = 1;

/** A decoded stamp. */
export interface Stamp {
  intendedMs: number;
  writtenMs: number;
  pub: number;
  seq: number;
  tag: number;
  flags: number;
}

/** Writes a stamp at `off` in `buf` (which must have STAMP_BYTES there). */
export function writeStamp(
  buf: Buffer,
  off: number,
  intendedMs: number,
  writtenMs: number,
  pub: number,
  seq: number,
  tag: number,
  flags: number,
): void {
  buf.writeDoubleLE(intendedMs, off);
  buf.writeDoubleLE(writtenMs, off + 8);
  buf.writeUInt32LE(pub >>> 0, off + 16);
  buf.writeUInt32LE(seq >>> 0, off + 20);
  buf.writeUInt32LE(tag >>> 0, off + 24);
  buf.writeUInt32LE(flags >>> 0, off + 28);
}

/** Reads a stamp from the start of `payload`; null when it is too short to hold one. */
export function readStamp(payload: Buffer, off = 0): Stamp | null {
  if (payload.length - off < STAMP_BYTES) return null;
  return {
    intendedMs: payload.readDoubleLE(off),
    writtenMs: payload.readDoubleLE(off + 8),
    pub: payload.readUInt32LE(off + 16),
    seq: payload.readUInt32LE(off + 20),
    tag: payload.readUInt32LE(off + 24),
    flags: payload.readUInt32LE(off + 28),
  };
}
