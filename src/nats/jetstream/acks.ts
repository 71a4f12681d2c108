/**
 * JetStream publish acks on the wire (specs/nats.md §3 "Publishing into streams"): the PubAck
 * JSON `{"stream":…,"seq":…[,"duplicate": true]}` and the error ack `{"error":{…},"stream":…,
 * "seq":0}`, plus the mapping of the stream's neutral refusals (`src/stream/errors.ts`) to the
 * nats-server errors of the catalogue. A success ack costs one string concatenation; the
 * prefix with the quoted stream name is built once per stream.
 */
import { JsErrors, jsError, type JsApiError } from '../../core/errors.js';
import type { AppendError, StreamLimit } from '../../stream/errors.js';
import { goQuote } from './gojson.js';

/** The words nats-server's stores use for a discard-new refusal (ErrMaxMsgs, ErrMaxBytes, ErrMaxMsgsPerSubject). */
const LIMIT_TEXT: Record<StreamLimit, string> = {
  'max-msgs': 'maximum messages exceeded',
  'max-bytes': 'maximum bytes exceeded',
  'max-msgs-per-subject': 'maximum messages per subject exceeded',
};

/** The JetStream API error nats-server sends for `e` (server/stream.go processJetStreamMsg). */
export function appendErrorToJs(e: AppendError): JsApiError {
  switch (e.kind) {
    case 'sealed':
      return JsErrors.StreamSealedErr;
    case 'wrong-stream':
      return JsErrors.StreamNotMatchErr;
    case 'wrong-last-sequence':
      return jsError(JsErrors.StreamWrongLastSequenceErrF, { seq: e.lastSeq });
    case 'wrong-last-msg-id':
      return jsError(JsErrors.StreamWrongLastMsgIDErrF, { id: e.lastMsgId });
    case 'missing-last-subject-sequence':
      return JsErrors.StreamExpectedLastSeqPerSubjectInvalid;
    case 'rollup-not-permitted':
      return jsError(JsErrors.StreamRollupFailedF, { err: 'rollup not permitted' });
    case 'rollup-invalid':
      return jsError(JsErrors.StreamRollupFailedF, { err: `rollup value invalid: ${goQuote(e.value)}` });
    case 'msg-too-large':
      return JsErrors.StreamMessageExceedsMaximumErr;
    case 'headers-too-large':
      return JsErrors.StreamHeaderExceedsMaximumErr;
    case 'insufficient-resources':
      return JsErrors.InsufficientResourcesErr;
    case 'limit-reached':
      return jsError(JsErrors.StreamStoreFailedF, { err: LIMIT_TEXT[e.limit] });
    case 'store-failed':
      return jsError(JsErrors.StreamStoreFailedF, { err: e.message });
  }
}

/** Builds the acks of one stream; the JSON prefix with its name is encoded once. */
export class PubAcks {
  private readonly prefix: string;

  constructor(private readonly stream: string) {
    this.prefix = `{"stream":${JSON.stringify(stream)},"seq":`;
  }

  /** The PubAck for a stored message, or for a duplicate (nats-server's exact spacing). */
  ok(seq: number, duplicate: boolean): Buffer {
    return Buffer.from(duplicate ? `${this.prefix}${seq},"duplicate": true}` : `${this.prefix}${seq}}`);
  }

  /** The error ack for a refused publish. */
  error(e: AppendError): Buffer {
    return Buffer.from(JSON.stringify({ error: appendErrorToJs(e), stream: this.stream, seq: 0 }));
  }
}
