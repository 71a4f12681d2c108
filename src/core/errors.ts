/**
 * The one error catalogue. Every error herald can put on the wire lives here with its exact
 * reference-server text, so doors never build error strings of their own:
 * - `NatsErrors`: NATS client-protocol `-ERR '…'` texts and whether nats-server closes the
 *   connection after sending them (specs/nats.md §1 "-ERR messages").
 * - `JsErrors`: JetStream API errors `{code, err_code, description}` as in nats-server's
 *   errors.json (specs/nats.md §3 "Key errors"). `{name}`-style placeholders are filled by
 *   `jsError`.
 * test/core/errors.test.ts checks that every NatsErrors entry is documented in docs/errors.md;
 * test/jetstream/errors-doc.test.ts does the same for JsErrors in docs/jetstream.md.
 */

/** A NATS protocol error: the text between the quotes of `-ERR '…'`, and whether it is fatal. */
export interface NatsProtocolError {
  readonly text: string;
  readonly fatal: boolean;
}

export const NatsErrors = {
  UnknownProtocolOperation: { text: 'Unknown Protocol Operation', fatal: true },
  AuthorizationViolation: { text: 'Authorization Violation', fatal: true },
  AuthenticationTimeout: { text: 'Authentication Timeout', fatal: true },
  MaximumPayloadViolation: { text: 'Maximum Payload Violation', fatal: true },
  MaxControlLineExceeded: { text: 'maximum control line exceeded', fatal: true },
  MaxConnectionsExceeded: { text: 'maximum connections exceeded', fatal: true },
  StaleConnection: { text: 'Stale Connection', fatal: true },
  NoRespondersRequiresHeaders: { text: 'no responders requires headers support', fatal: true },
  InvalidSubject: { text: 'Invalid Subject', fatal: false },
  MaxSubscriptionsExceeded: { text: 'maximum subscriptions exceeded', fatal: false },
  InvalidPublishSubject: { text: 'Invalid Publish Subject', fatal: false },
  BadClientProtocol: { text: 'invalid client protocol', fatal: true },
  // nats-server client.go, pubPermissionViolation / replySubjectViolation: `{subject}` and
  // `{reply}` are Go %q-quoted by the door.
  PublishPermissionViolation: { text: 'Permissions Violation for Publish to {subject}', fatal: false },
  ReplyPermissionViolation: { text: 'Permissions Violation for Publish with Reply of {reply}', fatal: false },
  // nats-server client.go, subPermissionViolation: `{subject}` and `{queue}` are Go %q-quoted.
  SubscribePermissionViolation: { text: 'Permissions Violation for Subscription to {subject}', fatal: false },
  QueueSubscribePermissionViolation: {
    text: 'Permissions Violation for Subscription to {subject} using queue {queue}',
    fatal: false,
  },
  // nats-server client.go processSubsOnConfigReload: a subscription that lost permission on a
  // config reload is removed and the client told, with its sid (queue subscriptions alike).
  ReloadSubscriptionRemoved: { text: 'Permissions Violation for Subscription to {subject} (sid {sid})', fatal: false },
} as const satisfies Record<string, NatsProtocolError>;

/** The `-ERR` line for `e`, ready to write; `{name}` placeholders are filled from `args`. */
export function natsErrLine(e: NatsProtocolError, args?: Record<string, string>): string {
  const text = args === undefined ? e.text : e.text.replace(/\{(\w+)\}/g, (m, k: string) => args[k] ?? m);
  return `-ERR '${text}'\r\n`;
}

/** A JetStream API error as it appears in a response's `error` field. */
export interface JsApiError {
  readonly code: number;
  readonly err_code: number;
  readonly description: string;
}

/** JetStream API errors, keyed by nats-server's errors.json identifier (without the `JS` prefix). */
export const JsErrors = {
  // -- entries added by the JetStream work (issue #3) go below this line --
  BadRequestErr: { code: 400, err_code: 10003, description: 'bad request' },
  InvalidJSONErr: { code: 400, err_code: 10025, description: 'invalid JSON: {err}' },
  NotEmptyRequestErr: { code: 400, err_code: 10038, description: 'expected an empty request payload' },
  InsufficientResourcesErr: { code: 503, err_code: 10023, description: 'insufficient resources' },
  StorageResourcesExceededErr: { code: 500, err_code: 10047, description: 'insufficient storage resources available' },
  MemoryResourcesExceededErr: { code: 500, err_code: 10028, description: 'insufficient memory resources available' },
  StreamNotFoundErr: { code: 404, err_code: 10059, description: 'stream not found' },
  StreamNameExistErr: { code: 400, err_code: 10058, description: 'stream name already in use with a different configuration' },
  StreamMismatchErr: { code: 400, err_code: 10056, description: 'stream name in subject does not match request' },
  StreamNameContainsPathSeparatorsErr: { code: 400, err_code: 10128, description: 'Stream name can not contain path separators' },
  StreamSubjectOverlapErr: { code: 400, err_code: 10065, description: 'subjects overlap with an existing stream' },
  StreamInvalidConfigF: { code: 500, err_code: 10052, description: '{err}' },
  StreamReplicasNotSupportedErr: { code: 500, err_code: 10074, description: 'replicas > 1 not supported in non-clustered mode' },
  ReplicasCountCannotBeNegative: { code: 400, err_code: 10133, description: 'replicas count cannot be negative' },
  PedanticErrF: { code: 400, err_code: 10157, description: 'pedantic mode: {err}' },
  StreamCreateErrF: { code: 500, err_code: 10049, description: '{err}' },
  StreamUpdateErrF: { code: 500, err_code: 10069, description: '{err}' },
  StreamDeleteErrF: { code: 500, err_code: 10050, description: '{err}' },
  StreamGeneralErrorF: { code: 500, err_code: 10051, description: '{err}' },
  StreamMessageExceedsMaximumErr: { code: 400, err_code: 10054, description: 'message size exceeds maximum allowed' },
  StreamHeaderExceedsMaximumErr: { code: 400, err_code: 10097, description: 'header size exceeds maximum allowed of 64k' },
  StreamNotMatchErr: { code: 400, err_code: 10060, description: 'expected stream does not match' },
  StreamWrongLastSequenceErrF: { code: 400, err_code: 10071, description: 'wrong last sequence: {seq}' },
  StreamWrongLastMsgIDErrF: { code: 400, err_code: 10070, description: 'wrong last msg ID: {id}' },
  StreamExpectedLastSeqPerSubjectInvalid: {
    code: 400,
    err_code: 10193,
    description: 'missing sequence for expected last sequence per subject',
  },
  StreamRollupFailedF: { code: 500, err_code: 10111, description: '{err}' },
  StreamStoreFailedF: { code: 503, err_code: 10077, description: '{err}' },
  StreamSealedErr: { code: 400, err_code: 10109, description: 'invalid operation on sealed stream' },
  StreamPurgeFailedF: { code: 500, err_code: 10110, description: '{err}' },
  StreamMsgDeleteFailedF: { code: 500, err_code: 10057, description: '{err}' },
  SequenceNotFoundErrF: { code: 400, err_code: 10043, description: 'sequence {seq} not found' },
  NoMessageFoundErr: { code: 404, err_code: 10037, description: 'no message found' },
  ConsumerNotFoundErr: { code: 404, err_code: 10014, description: 'consumer not found' },
  ConsumerCreateErrF: { code: 500, err_code: 10012, description: '{err}' },
  // -- consumers (issue #8) --
  ConsumerDurableNameNotMatchSubjectErr: {
    code: 400,
    err_code: 10017,
    description: 'consumer name in subject does not match durable name in request',
  },
  ConsumerDurableNameNotSetErr: {
    code: 400,
    err_code: 10018,
    description: 'consumer expected to be durable but a durable name was not set',
  },
  ConsumerEphemeralWithDurableNameErr: {
    code: 400,
    err_code: 10020,
    description: 'consumer expected to be ephemeral but a durable name was set in request',
  },
  MaximumConsumersLimitErr: { code: 400, err_code: 10026, description: 'maximum consumers limit reached' },
  MaximumStreamsLimitErr: { code: 400, err_code: 10027, description: 'maximum number of streams reached' },
  NotEnabledForAccountErr: { code: 503, err_code: 10039, description: 'JetStream not enabled for account' },
  ConsumerDeliverToWildcardsErr: { code: 400, err_code: 10079, description: 'consumer deliver subject has wildcards' },
  ConsumerDeliverCycleErr: { code: 400, err_code: 10081, description: 'consumer deliver subject forms a cycle' },
  ConsumerPushMaxWaitingErr: { code: 400, err_code: 10080, description: 'consumer in push mode can not set max waiting' },
  ConsumerSmallHeartbeatErr: { code: 400, err_code: 10083, description: 'consumer idle heartbeat needs to be >= 100ms' },
  ConsumerMaxWaitingNegativeErr: { code: 400, err_code: 10087, description: 'consumer max waiting needs to be positive' },
  ConsumerHBRequiresPushErr: {
    code: 400,
    err_code: 10088,
    description: 'consumer idle heartbeat requires a push based consumer',
  },
  ConsumerFCRequiresPushErr: { code: 400, err_code: 10089, description: 'consumer flow control requires a push based consumer' },
  ConsumerFilterNotSubsetErr: {
    code: 400,
    err_code: 10093,
    description: 'consumer filter subject is not a valid subset of the interest subjects',
  },
  ConsumerInvalidPolicyErrF: { code: 400, err_code: 10094, description: '{err}' },
  ConsumerWQRequiresExplicitAckErr: { code: 400, err_code: 10098, description: 'workqueue stream requires explicit ack' },
  ConsumerWQMultipleUnfilteredErr: {
    code: 400,
    err_code: 10099,
    description: 'multiple non-filtered consumers not allowed on workqueue stream',
  },
  ConsumerWQConsumerNotUniqueErr: { code: 400, err_code: 10100, description: 'filtered consumer not unique on workqueue stream' },
  ConsumerWQConsumerNotDeliverAllErr: {
    code: 400,
    err_code: 10101,
    description: 'consumer must be deliver all on workqueue stream',
  },
  ConsumerNameTooLongErrF: { code: 400, err_code: 10102, description: 'consumer name is too long, maximum allowed is {max}' },
  ConsumerBadDurableNameErr: { code: 400, err_code: 10103, description: "durable name can not contain '.', '*', '>'" },
  ConsumerDescriptionTooLongErrF: {
    code: 400,
    err_code: 10107,
    description: 'consumer description is too long, maximum allowed is {max}',
  },
  ConsumerWithFlowControlNeedsHeartbeats: {
    code: 400,
    err_code: 10108,
    description: 'consumer with flow control also needs heartbeats',
  },
  ConsumerMaxRequestBatchNegativeErr: { code: 400, err_code: 10114, description: 'consumer max request batch needs to be > 0' },
  ConsumerMaxRequestExpiresToSmall: {
    code: 400,
    err_code: 10115,
    description: 'consumer max request expires needs to be >= 1ms',
  },
  ConsumerMaxDeliverBackoffErr: {
    code: 400,
    err_code: 10116,
    description: 'max deliver is required to be > length of backoff values',
  },
  ConsumerNameContainsPathSeparatorsErr: {
    code: 400,
    err_code: 10127,
    description: 'Consumer name can not contain path separators',
  },
  ConsumerCreateFilterSubjectMismatchErr: {
    code: 400,
    err_code: 10131,
    description: 'Consumer create request did not match filtered subject from create subject',
  },
  ConsumerCreateDurableAndNameMismatch: {
    code: 400,
    err_code: 10132,
    description: 'Consumer Durable and Name have to be equal if both are provided',
  },
  ConsumerDuplicateFilterSubjects: {
    code: 400,
    err_code: 10136,
    description: 'consumer cannot have both FilterSubject and FilterSubjects specified',
  },
  ConsumerMultipleFiltersNotAllowed: {
    code: 400,
    err_code: 10137,
    description: 'consumer with multiple subject filters cannot use subject based API',
  },
  ConsumerOverlappingSubjectFilters: { code: 400, err_code: 10138, description: 'consumer subject filters cannot overlap' },
  ConsumerEmptyFilter: { code: 400, err_code: 10139, description: 'consumer filter in FilterSubjects cannot be empty' },
  ConsumerAlreadyExists: { code: 400, err_code: 10148, description: 'consumer already exists' },
  ConsumerDoesNotExist: { code: 400, err_code: 10149, description: 'consumer does not exist' },
} as const satisfies Record<string, JsApiError>;

/** `e` with `{placeholder}` fields in its description replaced from `args`. */
export function jsError(e: JsApiError, args?: Record<string, string | number>): JsApiError {
  if (args === undefined) return e;
  const description = e.description.replace(/\{(\w+)\}/g, (m, k: string) => (k in args ? String(args[k]) : m));
  return { code: e.code, err_code: e.err_code, description };
}

/**
 * Redis error replies, each the exact text Redis puts after `-` (its first word is the error code),
 * from Redis 7.x networking.c, server.c, pubsub.c, config.c, acl.c and t_stream.c. `{name}`
 * placeholders are filled by `redisError`. docs/redis.md lists every entry (test/resp/errors-doc.test.ts).
 * `Proto*` entries are protocol errors: Redis sends them and closes the connection.
 */
export const RedisErrors = {
  ProtoTooBigInline: 'ERR Protocol error: too big inline request',
  ProtoTooBigMbulkCount: 'ERR Protocol error: too big mbulk count string',
  ProtoTooBigBulkCount: 'ERR Protocol error: too big bulk count string',
  ProtoInvalidMultibulkLength: 'ERR Protocol error: invalid multibulk length',
  ProtoInvalidBulkLength: 'ERR Protocol error: invalid bulk length',
  ProtoUnauthMultibulkLength: 'ERR Protocol error: unauthenticated multibulk length',
  ProtoUnauthBulkLength: 'ERR Protocol error: unauthenticated bulk length',
  ProtoExpectedDollar: "ERR Protocol error: expected '$', got '{got}'",
  ProtoUnbalancedQuotes: 'ERR Protocol error: unbalanced quotes in request',
  UnknownCommand: "ERR unknown command '{name}', with args beginning with: {args}",
  UnknownSubcommand: "ERR unknown subcommand '{sub}'. Try {cmd} HELP.",
  SubcommandSyntax: "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP.",
  WrongArity: "ERR wrong number of arguments for '{cmd}' command",
  SubscribedContext:
    "ERR Can't execute '{cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
  Syntax: 'ERR syntax error',
  NotInteger: 'ERR value is not an integer or out of range',
  DbIndexOutOfRange: 'ERR DB index is out of range',
  NoProto: 'NOPROTO unsupported protocol version',
  HelloVersionNotInteger: 'ERR Protocol version is not an integer or out of range',
  HelloBadOption: "ERR Syntax error in HELLO option '{opt}'",
  AuthNoPassword:
    'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
  WrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  ClientNameInvalid: 'ERR Client names cannot contain spaces, newlines or special characters.',
  ClientInfoInvalid: 'ERR {attr} cannot contain spaces, newlines or special characters.',
  ClientInfoUnknown: "ERR Unrecognized option '{opt}'",
  ClientNoSuchClient: 'ERR No such client',
  ClientKillBadType: "ERR Unknown client type '{type}'",
  FunctionFlushMode: 'ERR FUNCTION FLUSH only supports SYNC|ASYNC option',
  ClientInvalidId: 'ERR Invalid client ID',
  ClientIdNotPositive: 'ERR client-id should be greater than 0',
  MaxClients: 'ERR max number of clients reached',
  ConfigSetUnknown: "ERR Unknown option or number of arguments for CONFIG SET - '{name}'",
  ConfigSetFailed: "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}",
  MultiNested: 'ERR MULTI calls can not be nested',
  ExecWithoutMulti: 'ERR EXEC without MULTI',
  DiscardWithoutMulti: 'ERR DISCARD without MULTI',
  WatchInsideMulti: 'ERR WATCH inside MULTI is not allowed',
  ExecAbort: 'EXECABORT Transaction discarded because of previous errors.',
  ExecAbortBecause: 'EXECABORT Transaction discarded because of: {reason}',
  NoAuth: 'NOAUTH Authentication required.',
  HelloNoAuth:
    'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
  NoPermChannel: 'NOPERM this user has no permissions to access one of the channels used as arguments',
  NoPermCommand: "NOPERM this user has no permissions to run the '{cmd}' command",
  // Redis Streams (t_stream.c, blocked.c, timeout.c).
  WrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  NoSuchKey: 'ERR no such key',
  StreamInvalidId: 'ERR Invalid stream ID specified as stream command argument',
  XaddIdZero: 'ERR The ID specified in XADD must be greater than 0-0',
  XaddIdTooSmall: 'ERR The ID specified in XADD is equal or smaller than the target stream top item',
  XaddExhausted: 'ERR The stream has exhausted the last possible ID, unable to add more items',
  MaxlenNegative: 'ERR The MAXLEN argument must be >= 0.',
  LimitNegative: 'ERR The LIMIT argument must be >= 0.',
  TrimBothStrategies: 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible',
  LimitWithoutStrategy: 'ERR syntax error, LIMIT cannot be used without specifying a trimming strategy',
  LimitWithoutApprox: 'ERR syntax error, LIMIT cannot be used without the special ~ option',
  XtrimNoStrategy: 'ERR syntax error, XTRIM must be called with a trimming strategy',
  XsetidEntriesAddedNegative: 'ERR entries_added must be positive',
  XsetidBelowMaxDeleted: 'ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id',
  XsetidBelowTop: 'ERR The ID specified in XSETID is smaller than the target stream top item',
  XsetidEntriesAddedBelowLength: 'ERR The entries_added specified in XSETID is smaller than the target stream length',
  XreadUnbalanced: "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
  XreadGroupOption: 'ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.',
  XreadNoackOption: 'ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.',
  XreadgroupMissingGroup: 'ERR Missing GROUP option for XREADGROUP',
  XreadgroupDollar:
    'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.',
  XreadGreaterThan: 'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.',
  XreadLastIdZero: 'ERR the stream last element ID is 0-0',
  TimeoutNegative: 'ERR timeout is negative',
  TimeoutNotInteger: 'ERR timeout is not an integer or out of range',
  TimeoutOutOfRange: 'ERR timeout is out of range',
  NoGroupRead: "NOGROUP No such key '{key}' or consumer group '{group}' in XREADGROUP with GROUP option",
  NoGroupKey: "NOGROUP No such key '{key}' or consumer group '{group}'",
  NoGroup: "NOGROUP No such consumer group '{group}' for key name '{key}'",
  NoGroupBlocked: 'NOGROUP the consumer group this client was blocked on no longer exists',
  BusyGroup: 'BUSYGROUP Consumer Group name already exists',
  XgroupNeedsKey:
    'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.',
  EntriesReadNegative: 'ERR value for ENTRIESREAD must be positive or -1',
  IntervalStartInvalid: 'ERR invalid start ID for the interval',
  IntervalEndInvalid: 'ERR invalid end ID for the interval',
  XclaimMinIdle: 'ERR Invalid min-idle-time argument for XCLAIM',
  XclaimIdle: 'ERR Invalid IDLE option argument for XCLAIM',
  XclaimTime: 'ERR Invalid TIME option argument for XCLAIM',
  XclaimRetryCount: 'ERR Invalid RETRYCOUNT option argument for XCLAIM',
  XclaimUnknownOption: "ERR Unrecognized XCLAIM option '{opt}'",
  XautoclaimMinIdle: 'ERR Invalid min-idle-time argument for XAUTOCLAIM',
  XautoclaimCount: 'ERR COUNT must be > 0',
  // Durability of the keyspace (src/resp/durability.ts): server.c processCommand's OOM text; the
  // MISCONF text of a failed AOF write (server.c writeCommandsDeniedByDiskError, aof.c).
  Oom: "OOM command not allowed when used memory > 'maxmemory'.",
  LogWriteFailed: 'MISCONF Errors writing to the AOF file: {reason}',
  LogWriteLost:
    'ERR herald could not write this command to the keyspace log ({reason}): the keyspace was reloaded from disk, so its effect may be gone, and writes are refused until restart',
} as const satisfies Record<string, string>;

/** `e` with `{placeholder}`s replaced from `args`; CR and LF become spaces as Redis's
 * addReplyErrorFormat does, so an error never breaks the framing. */
export function redisError(e: string, args?: Record<string, string | number>): string {
  const s = args === undefined ? e : e.replace(/\{(\w+)\}/g, (m, k: string) => (k in args ? String(args[k]) : m));
  return s.includes('\r') || s.includes('\n') ? s.replace(/[\r\n]/g, ' ') : s;
}
