/**
 * NATS header blocks (`NATS/1.0[ code text]\r\nKey: value\r\n…\r\n\r\n`) as JetStream reads and
 * writes them (specs/nats.md §1 "Headers"). Look-ups follow nats-server: keys are matched
 * case-sensitively at the start of a line, the value runs to the CRLF with leading blanks
 * skipped. Costs one `indexOf` per look-up and nothing for messages without headers.
 */
import type { Expectations } from '../../stream/stream.js';

const CRLF = '\r\n';
const HDR_LINE = 'NATS/1.0\r\n';

/** Header names JetStream acts on (specs/nats.md §3 "Special headers"). */
export const H = {
  MsgId: 'Nats-Msg-Id',
  ExpectedStream: 'Nats-Expected-Stream',
  ExpectedLastSeq: 'Nats-Expected-Last-Sequence',
  ExpectedLastSubjSeq: 'Nats-Expected-Last-Subject-Sequence',
  ExpectedLastSubjSeqSubj: 'Nats-Expected-Last-Subject-Sequence-Subject',
  ExpectedLastMsgId: 'Nats-Expected-Last-Msg-Id',
  Rollup: 'Nats-Rollup',
  Stream: 'Nats-Stream',
  Subject: 'Nats-Subject',
  Sequence: 'Nats-Sequence',
  TimeStamp: 'Nats-Time-Stamp',
} as const;

/** Every publish-time header JetStream acts on starts with this; a block without it has none. */
const NATS_PREFIX = 'Nats-';

/**
 * The publisher's expectations in `hdr` (specs/nats.md §3 "Special headers"), or null when the
 * block holds none of those headers. An empty value counts as absent, and a sequence that Go's
 * strconv.ParseUint would refuse becomes -1, which never matches (nats-server answers it with
 * wrong-last-sequence). One `indexOf` for blocks without `Nats-`, eight otherwise.
 */
export function parseExpectations(hdr: Buffer): Expectations | null {
  if (hdr.indexOf(NATS_PREFIX, 0, 'latin1') < 0) return null;
  const els = headerValue(hdr, H.ExpectedLastSeq);
  const elss = headerValue(hdr, H.ExpectedLastSubjSeq);
  return {
    msgId: headerValue(hdr, H.MsgId) ?? '',
    stream: headerValue(hdr, H.ExpectedStream) ?? '',
    lastSeq: els === null || els === '' ? null : parseSeq(els),
    lastSubjectSeq: elss === null || elss === '' ? null : parseSeq(elss),
    lastSubjectSeqSubject: headerValue(hdr, H.ExpectedLastSubjSeqSubj) ?? '',
    lastMsgId: headerValue(hdr, H.ExpectedLastMsgId) ?? '',
    rollup: headerValue(hdr, H.Rollup) ?? '',
  };
}

/** A sequence header value as Go's strconv.ParseUint would take it; -1 when it does not parse. */
function parseSeq(s: string): number {
  if (!/^[0-9]+$/.test(s)) return -1;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : -1;
}

/** The value of header `key` in `hdr`, or null when absent (an empty value is ''). */
export function headerValue(hdr: Buffer | null, key: string): string | null {
  if (hdr === null || hdr.length === 0) return null;
  let from = 0;
  for (;;) {
    const at: number = hdr.indexOf(key, from, 'latin1');
    if (at < 2) {
      if (at < 0) return null;
      from = at + key.length;
      continue;
    }
    const colon = at + key.length;
    if (hdr[at - 1] !== 0x0a || hdr[at - 2] !== 0x0d || colon >= hdr.length || hdr[colon] !== 0x3a) {
      from = at + key.length;
      continue;
    }
    let i = colon + 1;
    while (i < hdr.length && hdr[i] === 0x20) i++;
    let end = hdr.indexOf(CRLF, i, 'latin1');
    if (end < 0) end = hdr.length;
    return hdr.toString('utf8', i, end);
  }
}

/**
 * `hdr` without the status part of its first line (`NATS/1.0 503` → `NATS/1.0`), as nats-server
 * stores inbound messages; null when nothing but the bare first line would remain.
 */
export function stripStatus(hdr: Buffer | null): Buffer | null {
  if (hdr === null) return null;
  const cr = hdr.indexOf(0x0d);
  if (cr <= 8 || hdr.toString('latin1', 0, 8) !== 'NATS/1.0') return hdr;
  const rest = hdr.subarray(cr);
  if (rest.length <= 4) return null; // only "\r\n\r\n" left
  return Buffer.concat([hdr.subarray(0, 8), rest]);
}

/** `hdr` (or a fresh block) with `pairs` appended as extra lines, like nats-server genHeader. */
export function appendHeaders(hdr: Buffer | null, pairs: readonly (readonly [string, string])[]): Buffer {
  let lines = '';
  for (const [k, v] of pairs) lines += `${k}: ${v}${CRLF}`;
  if (hdr === null || hdr.length <= 2) return Buffer.from(HDR_LINE + lines + CRLF, 'utf8');
  // Drop the final blank line, append, close again.
  return Buffer.concat([hdr.subarray(0, hdr.length - 2), Buffer.from(lines + CRLF, 'utf8')]);
}

/** A status-only header block: `NATS/1.0 <code> <text>` and no other lines. */
export function statusHeader(code: number, text: string): Buffer {
  return Buffer.from(`NATS/1.0 ${code}${text === '' ? '' : ' ' + text}${CRLF}${CRLF}`, 'latin1');
}
