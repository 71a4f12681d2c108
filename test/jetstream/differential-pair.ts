// The set-up every JetStream differential file shares: a real `nats-server -js` and a herald, one
// `nats` v2 connection to each, started before the file's tests and stopped after them.
import { after, before } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { startHerald } from './helpers.js';

/** Starts both servers before the file's tests (unless `skip`) and hands the two connections to
 * `use`: first the reference's, then herald's. Everything is closed after the tests. */
export function differentialPair(skip: boolean, use: (ref: NatsConnection, herald: NatsConnection) => void): void {
  let ns: NatsServerHandle;
  let hs: Awaited<ReturnType<typeof startHerald>>;
  let a: NatsConnection;
  let b: NatsConnection;
  before(async () => {
    if (skip) return;
    ns = await startNatsServer({ jetstream: true });
    hs = await startHerald();
    a = await connect({ servers: ns.url });
    b = await connect({ servers: hs.server.url });
    use(a, b);
  });
  after(async () => {
    if (skip) return;
    await a.close();
    await b.close();
    await hs.stop();
    await ns.stop();
  });
}

/** `differentialPair` for files that only need the two connections: `ref` and `herald` are set
 * once the servers are up. */
export function differentialConnections(skip: boolean): { ref: NatsConnection; herald: NatsConnection } {
  const o = {} as { ref: NatsConnection; herald: NatsConnection };
  differentialPair(skip, (ref, herald) => {
    o.ref = ref;
    o.herald = herald;
  });
  return o;
}
