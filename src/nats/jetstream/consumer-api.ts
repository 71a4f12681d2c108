/**
 * `$JS.API.CONSUMER.*` until consumers exist (a later issue). Every answer is true of a server
 * that has no consumers, using the closest nats-server error (docs/jetstream.md lists them):
 * - CREATE, DURABLE.CREATE → 10012 (JSConsumerCreateErrF) "consumers are not supported by herald
 *   yet", after the stream is looked up (10059 when it does not exist);
 * - INFO, DELETE, PAUSE, UNPIN, RESET, LEADER.STEPDOWN → 10014 "consumer not found";
 * - NAMES, LIST → an empty page;
 * - MSG.NEXT never reaches here: the API declines it, so the client sees no responders (§1 trap).
 */
import { JsErrors, jsError } from '../../core/errors.js';
import type { Message } from '../../core/message.js';
import type { JsApi } from './api.js';
import { LIST_LIMIT, NAMES_LIMIT, TYPES } from './api.js';

const T = 'io.nats.jetstream.api.v1.';
/** Consumer response types (nats-server constants). */
export const CONSUMER_TYPES = {
  create: `${T}consumer_create_response`,
  info: `${T}consumer_info_response`,
  delete: `${T}consumer_delete_response`,
  names: `${T}consumer_names_response`,
  list: `${T}consumer_list_response`,
  pause: `${T}consumer_pause_response`,
  unpin: `${T}consumer_unpin_response`,
  reset: `${T}consumer_reset_response`,
  stepdown: `${T}consumer_leader_stepdown_response`,
} as const;

/** The sentence carried by 10012 while consumers are missing. */
export const CONSUMERS_UNSUPPORTED = 'consumers are not supported by herald yet';

/** Handles one `$JS.API.CONSUMER.…` request; `t` is the subject split on dots. */
export function consumerRequest(api: JsApi, msg: Message, t: string[]): void {
  const reply = msg.reply;
  const verb = t[3];
  const n = t.length;
  // $JS.API.CONSUMER.<VERB>.<stream>[.<consumer>[.<filter…>]]
  let type: string | null = null;
  let stream = '';
  let kind: 'create' | 'missing' | 'names' | 'list' = 'missing';
  switch (verb) {
    case 'CREATE':
      if (n >= 5) [type, stream, kind] = [CONSUMER_TYPES.create, t[4], 'create'];
      break;
    case 'DURABLE':
      if (n === 7 && t[4] === 'CREATE') [type, stream, kind] = [CONSUMER_TYPES.create, t[5], 'create'];
      break;
    case 'INFO':
      if (n === 6) [type, stream] = [CONSUMER_TYPES.info, t[4]];
      break;
    case 'DELETE':
      if (n === 6) [type, stream] = [CONSUMER_TYPES.delete, t[4]];
      break;
    case 'PAUSE':
      if (n === 6) [type, stream] = [CONSUMER_TYPES.pause, t[4]];
      break;
    case 'UNPIN':
      if (n === 6) [type, stream] = [CONSUMER_TYPES.unpin, t[4]];
      break;
    case 'RESET':
      if (n === 6) [type, stream] = [CONSUMER_TYPES.reset, t[4]];
      break;
    case 'LEADER':
      if (n === 7 && t[4] === 'STEPDOWN') [type, stream] = [CONSUMER_TYPES.stepdown, t[5]];
      break;
    case 'NAMES':
      if (n === 5) [type, stream, kind] = [CONSUMER_TYPES.names, t[4], 'names'];
      break;
    case 'LIST':
      if (n === 5) [type, stream, kind] = [CONSUMER_TYPES.list, t[4], 'list'];
      break;
  }
  if (type === null) {
    api.error(reply, TYPES.system, JsErrors.BadRequestErr);
    return;
  }
  if (kind === 'names' || kind === 'list') {
    const paged = { total: 0, offset: 0, limit: kind === 'names' ? NAMES_LIMIT : LIST_LIMIT };
    if (api.lookup(reply, type, stream, { ...paged, consumers: [] }) === null) return;
    api.send(reply, { type, ...paged, consumers: [] });
    return;
  }
  if (api.lookup(reply, type, stream) === null) return;
  if (kind === 'create') api.error(reply, type, jsError(JsErrors.ConsumerCreateErrF, { err: CONSUMERS_UNSUPPORTED }));
  else api.error(reply, type, JsErrors.ConsumerNotFoundErr);
}
