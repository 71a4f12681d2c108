/**
 * Why a stream refused something, as neutral typed kinds. No wire text lives here: each door maps
 * a kind to its own words (the NATS door to JetStream `{code, err_code, description}` in
 * `src/nats/jetstream/acks.ts` and `config.ts`). Kinds without data are shared frozen constants,
 * so refusing a publish allocates nothing.
 */

/**
 * Why `Stream.append` did not store a message (or could not make it durable). Checked in
 * nats-server's order (server/stream.go processJetStreamMsg): sealed, expected stream, duplicate
 * (not an error: a result), expected last subject sequence, expected last sequence, expected
 * last msg id, rollup, sizes, budget, discard-new limits, then the store itself.
 */
export type AppendError =
  | { readonly kind: 'sealed' }
  | { readonly kind: 'wrong-stream' }
  /** An expected last (subject) sequence did not match; `lastSeq` is what the stream holds. */
  | { readonly kind: 'wrong-last-sequence'; readonly lastSeq: number }
  /** The expected last msg id did not match; `lastMsgId` is the stream's ('' when none). */
  | { readonly kind: 'wrong-last-msg-id'; readonly lastMsgId: string }
  /** An expected-last-subject-sequence subject came without the sequence itself. */
  | { readonly kind: 'missing-last-subject-sequence' }
  /** The stream does not allow rollups (allow_rollup_hdrs off, or deny_purge). */
  | { readonly kind: 'rollup-not-permitted' }
  /** A rollup value that is neither 'sub' nor 'all' (as the publisher sent it). */
  | { readonly kind: 'rollup-invalid'; readonly value: string }
  /** Headers plus payload exceed max_msg_size. */
  | { readonly kind: 'msg-too-large' }
  /** The opaque header bytes exceed MAX_HEADER_BYTES. */
  | { readonly kind: 'headers-too-large' }
  /** The server-wide budget for this storage type is used up. */
  | { readonly kind: 'insufficient-resources' }
  /** discard: new and a limit is reached. */
  | { readonly kind: 'limit-reached'; readonly limit: StreamLimit }
  /** The store threw on append, or failed to make the record durable. */
  | { readonly kind: 'store-failed'; readonly message: string };

/** The limits a discard-new stream refuses a message for. */
export type StreamLimit = 'max-msgs' | 'max-bytes' | 'max-msgs-per-subject';

/** The data-free append errors, allocated once. */
export const AppendErrors = {
  sealed: Object.freeze({ kind: 'sealed' }),
  wrongStream: Object.freeze({ kind: 'wrong-stream' }),
  missingLastSubjectSequence: Object.freeze({ kind: 'missing-last-subject-sequence' }),
  rollupNotPermitted: Object.freeze({ kind: 'rollup-not-permitted' }),
  msgTooLarge: Object.freeze({ kind: 'msg-too-large' }),
  headersTooLarge: Object.freeze({ kind: 'headers-too-large' }),
  insufficientResources: Object.freeze({ kind: 'insufficient-resources' }),
  maxMsgs: Object.freeze({ kind: 'limit-reached', limit: 'max-msgs' }),
  maxBytes: Object.freeze({ kind: 'limit-reached', limit: 'max-bytes' }),
  maxMsgsPerSubject: Object.freeze({ kind: 'limit-reached', limit: 'max-msgs-per-subject' }),
} as const satisfies Record<string, AppendError>;

/**
 * Why a stream config (or an update to one) was refused. `invalid` carries nats-server's
 * sentence for the rule (docs/jetstream.md lists them); the door decides the envelope.
 */
export type ConfigError =
  | { readonly kind: 'invalid'; readonly text: string }
  /** Only in pedantic mode: a value the server would otherwise have adjusted. */
  | { readonly kind: 'pedantic'; readonly text: string }
  /** Two subjects of one config overlap (`a` is checked first, as nats-server's loop does). */
  | { readonly kind: 'subjects-overlap'; readonly a: string; readonly b: string }
  | { readonly kind: 'replicas-negative' }
  /** num_replicas > 1 on a single server. */
  | { readonly kind: 'replicas-unsupported' };

/** A checked config or the reason it was refused. */
export type ConfigResult<T> = { cfg: T; err: null } | { cfg: null; err: ConfigError };
