// JetStream per account, with the same conf and expectations on herald and on the real
// nats-server: a stream in one account is invisible to another (which may have its own stream of
// the same name and subjects), per-account max_streams/max_consumers give nats-server's errors,
// and an account without JetStream gets the same 10039 answers byte for byte. herald keeps each
// account's streams under <data>/jetstream/<account>/.
import { test, before, after, afterEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as v2 from 'nats';
import * as v3 from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { within } from '../helpers/bounded.js';
import { startHerald, startReferenceNats, type Target } from './helpers.js';

const CONF = `
accounts {
  A: { users: [ { user: a, password: a } ], jetstream: enabled }
  B: { users: [ { user: b, password: b } ], jetstream: { max_streams: 1, max_consumers: 1 } }
  N: { users: [ { user: n, password: n } ] }
}
`;
const WAIT = 5000;
const sc = v2.StringCodec();

const STARTS: [string, (conf: string) => Promise<Target>][] = [
  ['herald', (c) => startHerald(c, { jetstream: true })],
  ['nats-server', (c) => startReferenceNats(c, { jetstream: true })],
];

/** Raw `$JS.API` answers of the account without JetStream, per server, compared at the end. */
const disabledAnswers = new Map<string, string[]>();

for (const [name, start] of STARTS) {
  describe(`${name}: JetStream per account`, () => {
    let t: Target;
    const open: v3.NatsConnection[] = [];
    const connect = async (user: string): Promise<v3.NatsConnection> => {
      const nc = await within(v3.connect({ port: t.port, user, pass: user, reconnect: false }), WAIT, `connect ${user}`);
      open.push(nc);
      return nc;
    };
    before(async () => {
      t = await start(CONF);
    });
    afterEach(async () => {
      for (const c of open.splice(0)) await c.close().catch(() => undefined);
    });
    after(async () => {
      await t?.stop();
    });

    test('a stream in A is invisible to B, which can have its own stream of the same name and subjects', async () => {
      const jsmA = await within(jetstreamManager(await connect('a')), WAIT, 'jsm A');
      const ncB = await connect('b');
      const jsmB = await within(jetstreamManager(ncB), WAIT, 'jsm B');
      await within(jsmA.streams.add({ name: 'ORDERS', subjects: ['orders.>'] }), WAIT, 'create in A');
      const namesB: string[] = [];
      for await (const n of jsmB.streams.names()) namesB.push(n);
      assert.deepEqual(namesB, []);
      await within(jsmB.streams.add({ name: 'ORDERS', subjects: ['orders.>'] }), WAIT, 'create in B');
      const jsA = jetstream(open[0]!);
      await within(jsA.publish('orders.1', 'a1'), WAIT, 'publish in A');
      await within(jsA.publish('orders.2', 'a2'), WAIT, 'publish in A');
      await within(jetstream(ncB).publish('orders.1', 'b1'), WAIT, 'publish in B');
      assert.equal((await jsmA.streams.info('ORDERS')).state.messages, 2);
      assert.equal((await jsmB.streams.info('ORDERS')).state.messages, 1);
      const infoB = await jsmB.getAccountInfo();
      assert.equal(infoB.streams, 1);
      assert.equal(infoB.limits.max_streams, 1);
      assert.equal(infoB.limits.max_consumers, 1);
      if (t.herald !== null) {
        const data = t.herald.options.dataDir;
        assert.ok(existsSync(join(data, 'jetstream', 'A', 'streams', 'ORDERS')), 'A stream dir');
        assert.ok(existsSync(join(data, 'jetstream', 'B', 'streams', 'ORDERS')), 'B stream dir');
      }
    });

    test("B's max_streams and max_consumers give nats-server's errors", async () => {
      const jsmB = await within(jetstreamManager(await connect('b')), WAIT, 'jsm B');
      await assert.rejects(
        within(jsmB.streams.add({ name: 'SECOND', subjects: ['second'] }), WAIT, 'second stream'),
        (e: Error & { api_error?: { err_code: number } }) => /maximum number of streams reached/.test(e.message),
      );
      await within(jsmB.consumers.add('ORDERS', { durable_name: 'one', ack_policy: AckPolicy.Explicit }), WAIT, 'consumer 1');
      await assert.rejects(
        within(jsmB.consumers.add('ORDERS', { durable_name: 'two', ack_policy: AckPolicy.Explicit }), WAIT, 'consumer 2'),
        /maximum consumers limit reached/,
      );
    });

    test('an account without JetStream gets 10039 "JetStream not enabled for account"', async () => {
      const nc = await connect('n');
      await assert.rejects(within(jetstreamManager(nc), WAIT, 'jsm N'), /not enabled/i);
      const answers: string[] = [];
      for (const [subject, body] of [
        ['$JS.API.INFO', ''],
        ['$JS.API.STREAM.NAMES', '{}'],
        ['$JS.API.STREAM.CREATE.X', '{"name":"X","subjects":["x"]}'],
        ['$JS.API.STREAM.INFO.X', ''],
        ['$JS.API.STREAM.LIST', '{}'],
        ['$JS.API.STREAM.DELETE.X', ''],
        ['$JS.API.STREAM.MSG.GET.X', '{"seq":1}'],
        ['$JS.API.CONSUMER.CREATE.X', '{"stream_name":"X","config":{}}'],
        ['$JS.API.CONSUMER.DURABLE.CREATE.X.D', '{"stream_name":"X","config":{"durable_name":"D"}}'],
        ['$JS.API.CONSUMER.NAMES.X', '{}'],
        ['$JS.API.CONSUMER.LIST.X', '{}'],
        ['$JS.API.CONSUMER.INFO.X.D', ''],
        ['$JS.API.CONSUMER.DELETE.X.D', ''],
      ] as const) {
        const m = await within(nc.request(subject, body, { timeout: WAIT }), WAIT * 2, subject);
        answers.push(`${subject} ${m.string()}`);
      }
      disabledAnswers.set(name, answers);
      assert.match(answers[0]!, /"err_code":10039/);
    });
  });
}

test('herald and nats-server answer an account without JetStream identically', (t) => {
  if (disabledAnswers.size < 2) return t.skip('one of the servers did not run (see its failure above)');
  assert.deepEqual(disabledAnswers.get('herald'), disabledAnswers.get('nats-server'));
});
