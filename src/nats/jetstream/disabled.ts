/**
 * The `$JS.API` of an account without JetStream on a server that runs it: every request gets
 * nats-server's 503 / 10039 "JetStream not enabled for account" in the response type of the
 * endpoint asked (jetstream_api.go, the `!acc.JetStreamEnabled()` branches answer with
 * NewJSNotEnabledForAccountError). One internal subscription per such account; nothing else.
 */
import { JsErrors } from '../../core/errors.js';
import type { Client, Message, Subscription } from '../../core/message.js';
import type { Router } from '../../core/router.js';
import { TYPES } from './api.js';

const T = 'io.nats.jetstream.api.v1.';

/** The response type for a `$JS.API.<...>` subject, as the enabled API would answer it. */
export function responseTypeFor(subject: string): string {
  const t = subject.split('.');
  if (t[2] === 'INFO') return TYPES.accountInfo;
  if (t[2] === 'STREAM' && t[3] === 'MSG') return `${T}stream_msg_${(t[4] ?? '').toLowerCase()}_response`;
  if (t[2] === 'STREAM') return `${T}stream_${(t[3] ?? '').toLowerCase()}_response`;
  if (t[2] === 'CONSUMER') {
    const op = t[3] === 'DURABLE' ? 'CREATE' : (t[3] ?? '');
    return `${T}consumer_${op.toLowerCase()}_response`;
  }
  return TYPES.system;
}

/** Fields nats-server 2.9 emits beside the error for paged responses (pinned by test/security/accounts-jetstream.test.ts). */
function extraFor(subject: string): Record<string, unknown> {
  const t = subject.split('.');
  const paged = { total: 0, offset: 0, limit: 0 };
  if (t[2] === 'STREAM' && t[3] === 'NAMES') return { ...paged, streams: null };
  if (t[2] === 'STREAM' && t[3] === 'LIST') return { ...paged, streams: [] };
  if (t[2] === 'STREAM' && t[3] === 'INFO') return paged;
  if (t[2] === 'CONSUMER' && (t[3] === 'NAMES' || t[3] === 'LIST')) return { ...paged, consumers: [] };
  return {};
}

/** Answers every `$JS.API.>` request of one account with 10039. */
export class JetStreamDisabled {
  private sub: Subscription | null = null;

  constructor(private readonly router: Router) {}

  start(): void {
    const client: Client = { id: 0, echo: true, internal: true, deliver: (_s, msg) => this.onRequest(msg) };
    this.sub = this.router.subscribe(client, '$JS.API.>', null, 'jsapi:disabled');
  }

  stop(): void {
    if (this.sub !== null) this.router.unsubscribe(this.sub);
    this.sub = null;
  }

  private onRequest(msg: Message): boolean {
    if (msg.reply === '') return true;
    const body = { type: responseTypeFor(msg.subject), error: JsErrors.NotEnabledForAccountErr, ...extraFor(msg.subject) };
    this.router.publish({ subject: msg.reply, reply: '', headers: null, payload: Buffer.from(JSON.stringify(body)) }, null);
    return true;
  }
}
