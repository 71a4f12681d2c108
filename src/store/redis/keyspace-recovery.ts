/**
 * Recovery of the Redis keyspace log (docs/storage-format.md "Redis keyspace log"): picks the
 * generation that holds the truth, replays its records in order, steps over damaged records
 * (resynchronising on the next record that checks out under the file key and is confirmed by the
 * one after it), cuts only a torn tail, and reports every loss. Never hands a record that failed
 * its checksum to the model. Reads with node:fs directly (what a read after a crash sees).
 *
 * Costs: one read of the chosen file into memory; the resync tries every offset of a damaged
 * stretch (a length and type test each, a CRC only for plausible candidates).
 */
import { readdirSync, readFileSync, renameSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { NEED_MORE, reasonText } from '../file/record.js';
import { checkKsRecord, KS_HEAD_LEN, ksSeq, KsRecord, readEffect, readHead, type KsHead } from './keyspace-record.js';

/** One generation's file name: `keyspace.<10-digit generation>.log`. */
export function ksFileName(gen: number): string {
  return `keyspace.${String(gen).padStart(10, '0')}.log`;
}
const FILE_RE = /^keyspace\.(\d{10})\.log$/;

/** What recovery found and did (logged, and returned to the caller for tests and monitoring). */
export interface KeyspaceRecoveryReport {
  /** Generation replayed (0: none, a fresh log). */
  generation: number;
  /** Effect records handed to the model. */
  records: number;
  /** Highest seq seen (the next record gets seq + 1). */
  lastSeq: number;
  /** A torn tail cut off the file: offset, bytes, why. */
  truncated: { file: string; offset: number; bytes: number; reason: string }[];
  /** Damaged stretches stepped over: offset, bytes, how many records they held (exact, from the
   * seqs around them), why. */
  skipped: { file: string; offset: number; bytes: number; recordsLost: number; reason: string }[];
  /** Records the model refused on replay (index among replayed records, its message). */
  refused: { file: string; offset: number; error: string }[];
  /** Other findings: unfinished generation switches removed, unreadable files set aside. */
  notes: string[];
}

/** The replay target: applies one effect record (may throw: reported, replay goes on). */
export type ApplyEffect = (db: number, key: string, rec: Buffer) => void;

/** Logger shape (pino-compatible). */
export interface KsLogger {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error?(o: object, m: string): void;
}

/** Result of scanning one generation file. */
interface Scan {
  head: KsHead;
  /** File length after the scan (a torn tail cut). */
  end: number;
  lastSeq: number;
}

/**
 * Scans `b` (a generation file with a valid head) record by record, calling `onRecord` for each
 * good one, resynchronising past damage and returning where a torn tail starts.
 */
function scan(
  b: Buffer,
  head: KsHead,
  onRecord: (o: number, len: number) => void,
  onSkip: (o: number, bytes: number, lost: number, reason: string) => void,
): { end: number; lastSeq: number; tornReason: string } {
  const key = head.fileKey;
  let o = 2 * KS_HEAD_LEN;
  let lastSeq = head.firstSeq - 1;
  // A candidate record: checks out and comes after every record accepted so far.
  const good = (q: number): number => {
    const n = checkKsRecord(b, q, b.length - q, key);
    if (n < 0) return n;
    return b[q + 4] !== KsRecord.Head && ksSeq(b, q) > lastSeq ? n : -9;
  };
  while (o < b.length) {
    const n = good(o);
    if (n > 0) {
      onRecord(o, n);
      lastSeq = ksSeq(b, o);
      o += n;
      continue;
    }
    // Damage at o. A restart point q checks out and is followed by another good record, a
    // record the file ends inside, or the end of the file.
    let q = -1;
    for (let p = o + 1; p + 24 <= b.length; p++) {
      const m = good(p);
      if (m < 0) continue;
      const after = p + m;
      if (after === b.length) {
        q = p;
        break;
      }
      const saved = lastSeq;
      lastSeq = ksSeq(b, p);
      const next = good(after);
      lastSeq = saved;
      if (next > 0 || next === NEED_MORE) {
        q = p;
        break;
      }
    }
    const reason = n === -9 ? 'record out of order' : reasonText(n);
    if (q < 0) return { end: o, lastSeq, tornReason: reason };
    onSkip(o, q - o, ksSeq(b, q) - lastSeq - 1, reason);
    o = q;
  }
  return { end: o, lastSeq, tornReason: '' };
}

/**
 * Recovers the log in `dir`: chooses the generation, replays it through `apply`, cuts a torn tail,
 * removes generations that are no longer needed, and returns the report plus the chosen file's
 * generation and length (0 when there is none: the caller starts generation 1).
 */
export function recoverKeyspace(
  dir: string,
  apply: ApplyEffect,
  logger: KsLogger | undefined,
  readOnly = false,
): { report: KeyspaceRecoveryReport; gen: number; size: number; highestGen: number; fileKey: number; baseSize: number } {
  const report: KeyspaceRecoveryReport = { generation: 0, records: 0, lastSeq: 0, truncated: [], skipped: [], refused: [], notes: [] };
  const gens = readdirSync(dir)
    .map((f) => FILE_RE.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  const highestGen = gens.length > 0 ? gens[0] : 0;
  let chosen: Scan | null = null;
  let chosenGen = 0;
  let baseSize = 0;
  for (let i = 0; i < gens.length; i++) {
    const gen = gens[i];
    const file = ksFileName(gen);
    const path = join(dir, file);
    if (chosen !== null) {
      if (!readOnly) unlinkSync(path); // an older generation whose removal a crash interrupted
      report.notes.push(`${file}: older generation removed`);
      continue;
    }
    const b = readFileSync(path);
    const older = i + 1 < gens.length;
    const head = readHead(b);
    if (head === null) {
      if (older) {
        // A switch to this generation that never became durable: the older file is the truth.
        if (!readOnly) unlinkSync(path);
        report.notes.push(`${file}: unfinished generation switch removed (no valid head)`);
      } else {
        if (!readOnly) renameSync(path, `${path}.damaged`);
        report.notes.push(`${file}: both head records damaged; file set aside as ${file}.damaged, keyspace starts empty`);
        logger?.error?.({ dir, file }, 'Redis keyspace log unreadable (both head records damaged); set aside, keyspace starts empty');
      }
      continue;
    }
    // First pass: is the snapshot complete? (no model calls yet)
    const dry = scan(b, head, () => undefined, () => undefined);
    const complete = dry.lastSeq >= head.snapEndSeq;
    if (!complete && older) {
      if (!readOnly) unlinkSync(path);
      report.notes.push(`${file}: unfinished generation switch removed (snapshot incomplete)`);
      continue;
    }
    // The truth: replay it.
    const res = scan(
      b,
      head,
      (o, len) => {
        if (b[o + 4] === KsRecord.SnapEnd) baseSize = o + len;
        if (b[o + 4] !== KsRecord.Effect) return;
        const e = readEffect(b, o, len);
        try {
          apply(e.db, e.key, e.rec);
          report.records++;
        } catch (err) {
          report.refused.push({ file, offset: o, error: (err as Error).message });
        }
      },
      (o, bytes, lost, reason) => report.skipped.push({ file, offset: o, bytes, recordsLost: lost, reason }),
    );
    if (!complete) report.notes.push(`${file}: snapshot incomplete (its end record is lost); replayed what is intact`);
    if (res.end < b.length) {
      report.truncated.push({ file, offset: res.end, bytes: b.length - res.end, reason: res.tornReason });
      if (!readOnly) truncateSync(path, res.end);
    }
    chosen = { head, end: res.end, lastSeq: res.lastSeq };
    chosenGen = gen;
  }
  if (chosen !== null) {
    report.generation = chosenGen;
    report.lastSeq = Math.max(chosen.lastSeq, chosen.head.snapEndSeq);
  }
  for (const t of report.truncated) logger?.warn({ dir, ...t }, 'Redis keyspace log: torn tail cut');
  for (const s of report.skipped) logger?.warn({ dir, ...s }, 'Redis keyspace log: damaged records skipped (lost)');
  for (const r of report.refused) logger?.warn({ dir, ...r }, 'Redis keyspace log: record refused by the model on replay');
  return { report, gen: chosenGen, size: chosen?.end ?? 0, highestGen, fileKey: chosen?.head.fileKey ?? 0, baseSize };
}

/**
 * Replays the log in `dir` into `apply` without changing any file: what a restart would find,
 * for rebuilding the model after a write failure (src/resp/durability.ts).
 */
export function readKeyspace(dir: string, apply: ApplyEffect): KeyspaceRecoveryReport {
  return recoverKeyspace(dir, apply, undefined, true).report;
}
