// Push-consumer scenarios run the same way against herald and nats-server (the differential test)
// or herald alone: each drives a `nats` v2 connection with plain core subscriptions, so what it
// records is exactly what the server put on the wire.
import type { Msg, NatsConnection } from 'nats';
import { waitFor } from '../jetstream/helpers.js';

const REQUEST_TIMEOUT_MS = 3000;
/** Upper bound for any wait in these scenarios. */
export const WAIT_MS = 10_000;

export async function api(nc: NatsConnection, subject: string, body?: unknown): Promise<any> {
  const m = await nc.request(subject, body === undefined ? '' : JSON.stringify(body), { timeout: REQUEST_TIMEOUT_MS });
  return JSON.parse(new TextDecoder().decode(m.data));
}

function statusOf(m: Msg): { code: number; description: string } | null {
  const h = m.headers;
  if (h === undefined || m.data.length > 0 || h.code === 0) return null;
  return { code: h.code, description: h.description };
}

/** What a client that does not answer flow control sees, then what answering does. */
export interface StallObservation {
  published: number;
  deliveredBeforeStall: number;
  fcRequests: number;
  fcReplyShape: boolean;
  stalledHeaderNamesRequest: boolean;
  deliveredAfterAnswering: number;
  pushBoundWhileSubscribed: boolean;
  pushBoundAfterUnsubscribe: boolean;
}

/**
 * 3,000 × 1 KB messages to a push consumer with flow control and 200 ms heartbeats; the
 * subscriber ignores the flow-control request until a heartbeat reports the stall, then answers
 * every request (the stalled one first) until everything arrived.
 */
export async function flowControlStall(nc: NatsConnection, stream = 'FC'): Promise<StallObservation> {
  const N = 3000;
  await api(nc, `$JS.API.STREAM.CREATE.${stream}`, { name: stream, subjects: [`${stream.toLowerCase()}.>`] });
  const payload = new Uint8Array(1024).fill(97);
  for (let i = 0; i < N; i++) nc.publish(`${stream.toLowerCase()}.x`, payload);
  await nc.flush();
  const deliver = `dlv.${stream}`;
  await api(nc, `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.P`, {
    stream_name: stream,
    config: { durable_name: 'P', deliver_subject: deliver, ack_policy: 'none', flow_control: true, idle_heartbeat: 200_000_000 },
  });
  let data = 0;
  const fc: string[] = [];
  let stalled = '';
  /** Messages received at each heartbeat that reported a stall: a heartbeat can carry the header
   * while delivery is merely slow (a request is out), so the stall is real once two agree. */
  const atStall: number[] = [];
  let answering = false;
  const sub = nc.subscribe(deliver, {
    callback: (_e, m) => {
      const st = statusOf(m);
      if (st === null) {
        data++;
        return;
      }
      if (st.description === 'FlowControl Request') {
        fc.push(m.reply ?? '');
        if (answering) m.respond();
      } else if (st.description === 'Idle Heartbeat') {
        const s = m.headers?.get('Nats-Consumer-Stalled') ?? '';
        if (s !== '' && !answering) {
          stalled = s;
          atStall.push(data);
        }
      }
    },
  });
  await nc.flush();
  const settled = (): boolean => atStall.length >= 2 && atStall[atStall.length - 1] === atStall[atStall.length - 2];
  if (!(await waitFor(() => settled() || data === N, WAIT_MS))) throw new Error(`no stall and no end: ${data}/${N}`);
  const before = data;
  const pushBoundWhileSubscribed = (await api(nc, `$JS.API.CONSUMER.INFO.${stream}.P`)).push_bound === true;
  answering = true;
  if (stalled !== '') nc.publish(stalled);
  if (!(await waitFor(() => data === N, WAIT_MS))) throw new Error(`after answering only ${data}/${N} arrived`);
  sub.unsubscribe();
  await nc.flush();
  let after = true;
  await waitFor(async () => !(after = (await api(nc, `$JS.API.CONSUMER.INFO.${stream}.P`)).push_bound === true), WAIT_MS);
  return {
    published: N,
    deliveredBeforeStall: before,
    fcRequests: fc.length > 0 ? 1 : 0,
    fcReplyShape: fc.every((r) => new RegExp(`^\\$JS\\.FC\\.${stream}\\.P\\.[0-9A-Za-z]{4}$`).test(r)),
    stalledHeaderNamesRequest: stalled !== '' && stalled === fc[0],
    deliveredAfterAnswering: data,
    pushBoundWhileSubscribed,
    pushBoundAfterUnsubscribe: after,
  };
}

/** Messages published while nobody listens wait; a subscription that arrives later gets all. */
export async function deliveryWaitsForInterest(nc: NatsConnection, stream = 'LATE'): Promise<{ deliveredBefore: number; got: number }> {
  await api(nc, `$JS.API.STREAM.CREATE.${stream}`, { name: stream, subjects: [`${stream.toLowerCase()}.>`] });
  const deliver = `dlv.${stream}`;
  await api(nc, `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.L`, {
    stream_name: stream,
    config: { durable_name: 'L', deliver_subject: deliver, ack_policy: 'explicit' },
  });
  for (let i = 0; i < 20; i++) await nc.request(`${stream.toLowerCase()}.x`, `m${i}`, { timeout: REQUEST_TIMEOUT_MS });
  const deliveredBefore = (await api(nc, `$JS.API.CONSUMER.INFO.${stream}.L`)).delivered.stream_seq as number;
  let got = 0;
  const sub = nc.subscribe(deliver, {
    callback: (_e, m) => {
      got++;
      m.respond();
    },
  });
  await waitFor(() => got >= 20, WAIT_MS);
  sub.unsubscribe();
  return { deliveredBefore, got };
}
