// The set-up most consumer test files share: one herald, one v3 connection and its
// JetStreamManager, started before the file's tests and stopped after them.
import { after, before } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { startHerald } from '../jetstream/helpers.js';

export interface HeraldV3 {
  srv: Awaited<ReturnType<typeof startHerald>>;
  nc: NatsConnection;
  jsm: JetStreamManager;
}

/** Registers before/after hooks; the returned object is filled in once `before` ran. */
export function heraldV3(): HeraldV3 {
  const h = {} as HeraldV3;
  before(async () => {
    h.srv = await startHerald();
    h.nc = await connect({ servers: h.srv.server.url });
    h.jsm = await jetstreamManager(h.nc);
  });
  after(async () => {
    await h.nc.close();
    await h.srv.stop();
  });
  return h;
}
