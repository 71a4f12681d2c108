/**
 * The one error catalogue. Every error herald can put on the wire lives here with its exact
 * reference-server text, so doors never build error strings of their own:
 * - `NatsErrors`: NATS client-protocol `-ERR '…'` texts and whether nats-server closes the
 *   connection after sending them (specs/nats.md §1 "-ERR messages").
 * - `JsErrors`: JetStream API errors `{code, err_code, description}` as in nats-server's
 *   errors.json (specs/nats.md §3 "Key errors"). `{name}`-style placeholders are filled by
 *   `jsError`.
 * test/unit/errors.test.ts checks that every entry is documented in docs/errors.md.
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
  ParserError: { text: 'Unknown Protocol Operation', fatal: true },
  InvalidSubject: { text: 'Invalid Subject', fatal: false },
  InvalidPublishSubject: { text: 'Invalid Publish Subject', fatal: false },
  SlowConsumer: { text: 'Slow Consumer', fatal: true },
} as const satisfies Record<string, NatsProtocolError>;

/** The `-ERR` line for `e`, ready to write. */
export function natsErrLine(e: NatsProtocolError): string {
  return `-ERR '${e.text}'\r\n`;
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
} as const satisfies Record<string, JsApiError>;

/** `e` with `{placeholder}` fields in its description replaced from `args`. */
export function jsError(e: JsApiError, args?: Record<string, string | number>): JsApiError {
  if (args === undefined) return e;
  const description = e.description.replace(/\{(\w+)\}/g, (m, k: string) => (k in args ? String(args[k]) : m));
  return { code: e.code, err_code: e.err_code, description };
}
