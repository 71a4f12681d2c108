// Core messaging with the v3 client (@nats-io/transport-node 3.x), against herald and the real
// nats-server with the same expectations.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers, Empty, errors, type NatsConnection } from '@nats-io/transport-node';
import { Server } from '../../src/index.js';
import { startNatsServer } from '../helpers/nats-server.js';

const TARGETS: [string, () => Promise<{ url: string; stop(): Promise<void> }>][] = [
  [
    'herald',
    async () => {
      const s = await Server.start({ port: 0, jetstream: false, logLevel: 'silent' });
      return { url: s.url, stop: () => s.close() };
    },
  ],
  ['nats-server', () => startNatsServer()],
];

for (const [name, start] of TARGETS) {
  describe(name, () => {
    let server: { url: string; stop(): Promise<void> };
    before(async () => {
      server = await start();
    });
    after(async () => {
      await server.stop();
    });

    test('v3: wildcards, queue groups and request-reply', async () => {
      const nc: NatsConnection = await connect({ servers: server.url });
      const seen: string[] = [];
      nc.subscribe('a.*.c', { callback: (_e, m) => void seen.push(m.subject) });
      nc.subscribe('a.>', { callback: (_e, m) => void seen.push('>' + m.subject) });
      const q = [0, 0, 0];
      for (let i = 0; i < 3; i++) nc.subscribe('q.t', { queue: 'g', callback: () => void q[i]++ });
      nc.subscribe('svc.echo', { callback: (_e, m) => void m.respond(m.data) });
      await nc.flush();
      nc.publish('a.b.c', 'x');
      nc.publish('a.b', 'y');
      for (let i = 0; i < 300; i++) nc.publish('q.t', 'w');
      const r = await nc.request('svc.echo', 'hello', { timeout: 2000 });
      assert.equal(r.string(), 'hello');
      await nc.flush();
      assert.deepEqual(seen.sort(), ['>a.b', '>a.b.c', 'a.b.c']);
      assert.equal(q[0] + q[1] + q[2], 300);
      assert.ok(
        q.every((n) => n > 0),
        `every member got some: ${q}`,
      );
      await nc.close();
    });

    test('v3: no responders is reported at once', async () => {
      const nc = await connect({ servers: server.url });
      await assert.rejects(
        nc.request('no.one', Empty, { timeout: 3000 }),
        (e: unknown) => e instanceof errors.RequestError && e.isNoResponders(),
      );
      await nc.close();
    });

    test('v3: headers, noEcho, drain', async () => {
      const a = await connect({ servers: server.url, noEcho: true });
      const b = await connect({ servers: server.url });
      let self = 0;
      const got: string[] = [];
      a.subscribe('hv3', { callback: () => void self++ });
      b.subscribe('hv3', { callback: (_e, m) => void got.push(`${m.headers?.get('k')}:${m.string()}`) });
      await a.flush();
      await b.flush();
      const h = headers();
      h.set('k', 'v');
      a.publish('hv3', 'p', { headers: h });
      await a.flush();
      await b.drain();
      assert.deepEqual(got, ['v:p']);
      assert.equal(self, 0);
      await a.close();
    });
  });
}
