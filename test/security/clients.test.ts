// Real clients (nats v2 and @nats-io/transport-node v3) against herald and, with the same
// expectations, the real nats-server: each auth method, permission violations seen through the
// clients' own error reporting, allow_responses, and JetStream API calls obeying publish
// permissions (a user denied $JS.API.STREAM.DELETE.> cannot delete streams).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as v2 from 'nats';
import * as v3 from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createUser } from 'nkeys.js';
import { within } from '../helpers/bounded.js';
import { bcryptHash, startHerald, startReferenceNats, type Target } from './helpers.js';

const nk = createUser();
const CONF = `
authorization {
  users = [
    { user: alice, password: alice-pw }
    { user: bob, password: "${bcryptHash('bob-pw')}" }
    { nkey: ${nk.getPublicKey()} }
    { user: carol, password: carol-pw, permissions: { publish: "orders.>", subscribe: { allow: ">", deny: "secret.>" } } }
    { user: svc, password: svc-pw, permissions: { subscribe: "req.>", allow_responses: true } }
    { user: dave, password: dave-pw, permissions: { publish: { deny: "$JS.API.STREAM.DELETE.>" } } }
  ]
}
`;
const TOKEN_CONF = 'authorization { token: "t0k3n" }\n';
const WAIT = 5000;

const STARTS: [string, (conf: string, js?: boolean) => Promise<Target>][] = [
  ['herald', (c, js) => startHerald(c, { jetstream: js })],
  ['nats-server', (c, js) => startReferenceNats(c, { jetstream: js })],
];

/** The first error the v2 connection's status stream reports. */
async function firstV2Error(nc: v2.NatsConnection): Promise<string> {
  for await (const s of nc.status()) if (s.type === v2.Events.Error) return String(s.data);
  return 'status ended';
}

/** The first error the v3 connection's status stream reports. */
async function firstV3Error(nc: v3.NatsConnection): Promise<Error> {
  for await (const s of nc.status()) if (s.type === 'error') return s.error;
  throw new Error('status ended');
}

for (const [name, start] of STARTS) {
  describe(`${name}: auth with real clients`, () => {
    let users: Target;
    let token: Target;
    before(async () => {
      users = await start(CONF, true);
      token = await start(TOKEN_CONF);
    });
    after(async () => {
      await users?.stop();
      await token?.stop();
    });

    test('nats v2: token, user/password, bcrypt and nkey log in; wrong secrets are refused', async () => {
      const ok: v2.ConnectionOptions[] = [
        { servers: token.url, token: 't0k3n' },
        { servers: users.url, user: 'alice', pass: 'alice-pw' },
        { servers: users.url, user: 'bob', pass: 'bob-pw' },
        { servers: users.url, authenticator: v2.nkeyAuthenticator(nk.getSeed()) },
      ];
      for (const o of ok) {
        const nc = await within(v2.connect(o), WAIT, `v2 connect ${JSON.stringify(o.user ?? o.token ?? 'nkey')}`);
        await nc.flush();
        await nc.close();
      }
      const bad: v2.ConnectionOptions[] = [
        { servers: token.url, token: 'guess' },
        { servers: users.url, user: 'alice', pass: 'x' },
        { servers: users.url, user: 'bob', pass: 'bob' },
        { servers: users.url, authenticator: v2.nkeyAuthenticator(createUser().getSeed()) },
        { servers: users.url },
      ];
      for (const o of bad) {
        await assert.rejects(within(v2.connect({ ...o, reconnect: false }), WAIT, 'v2 refusal'), (e: v2.NatsError) => {
          assert.equal(e.code, v2.ErrorCode.AuthorizationViolation);
          return true;
        });
      }
    });

    test('nats v3: token, user/password, bcrypt and nkey log in; wrong secrets are refused', async () => {
      const ok: v3.NodeConnectionOptions[] = [
        { servers: token.url, token: 't0k3n' },
        { servers: users.url, user: 'alice', pass: 'alice-pw' },
        { servers: users.url, user: 'bob', pass: 'bob-pw' },
        { servers: users.url, authenticator: v3.nkeyAuthenticator(nk.getSeed()) },
      ];
      for (const o of ok) {
        const nc = await within(v3.connect(o), WAIT, 'v3 connect');
        await nc.flush();
        await nc.close();
      }
      const bad: v3.NodeConnectionOptions[] = [
        { servers: token.url, token: 'guess' },
        { servers: users.url, user: 'alice', pass: 'x' },
        { servers: users.url, authenticator: v3.nkeyAuthenticator(createUser().getSeed()) },
      ];
      for (const o of bad) {
        await assert.rejects(within(v3.connect({ ...o, reconnect: false }), WAIT, 'v3 refusal'), v3.errors.AuthorizationError);
      }
    });

    test('nats v2: publish and subscribe violations reach the error callbacks; the connection stays', async () => {
      const nc = await v2.connect({ servers: users.url, user: 'carol', pass: 'carol-pw' });
      const pubErr = firstV2Error(nc);
      nc.publish('billing.x');
      assert.match(await within(pubErr, WAIT, 'publish violation'), /PERMISSIONS_VIOLATION|Permissions Violation/i);
      const sub = nc.subscribe('secret.plans');
      const subErr = (async () => {
        try {
          for await (const _ of sub) void _;
          return 'iterator ended';
        } catch (e) {
          return (e as v2.NatsError).message;
        }
      })();
      assert.match(
        await within(subErr, WAIT, 'subscription violation'),
        /Permissions Violation for Subscription to "secret\.plans"/,
      );
      // Not fatal: the connection still publishes what it may and receives it.
      const got = nc.subscribe('orders.new', { max: 1 });
      nc.publish('orders.new', v2.StringCodec().encode('ok'));
      for await (const m of got) assert.equal(v2.StringCodec().decode(m.data), 'ok');
      assert.equal(nc.isClosed(), false);
      await nc.close();
    });

    test('nats v3: violations surface as PermissionViolationError', async () => {
      const nc = await v3.connect({ servers: users.url, user: 'carol', pass: 'carol-pw' });
      const err = firstV3Error(nc);
      nc.publish('billing.x');
      const e = await within(err, WAIT, 'v3 publish violation');
      assert.ok(e instanceof v3.errors.PermissionViolationError, String(e));
      assert.equal(e.operation, 'publish');
      assert.equal(e.subject, 'billing.x');
      await nc.close();
    });

    test('allow_responses: one reply per request, nothing else', async () => {
      const svc = await v2.connect({ servers: users.url, user: 'svc', pass: 'svc-pw' });
      const client = await v2.connect({ servers: users.url, user: 'alice', pass: 'alice-pw' });
      const errors: string[] = [];
      (async () => {
        for await (const s of svc.status()) if (s.type === v2.Events.Error) errors.push(String(s.data));
      })().catch(() => undefined);
      svc.subscribe('req.echo', {
        callback: (_e, m) => {
          m.respond(m.data);
          m.respond(m.data); // the second reply exceeds max 1: dropped with a violation
        },
      });
      await svc.flush();
      const r = await client.request('req.echo', v2.StringCodec().encode('hi'), { timeout: WAIT });
      assert.equal(v2.StringCodec().decode(r.data), 'hi');
      svc.publish('other.subject');
      await svc.flush();
      await within(
        (async () => {
          while (errors.length < 2) await new Promise((res) => setTimeout(res, 20));
        })(),
        WAIT,
        'two publish violations (second reply, other subject)',
      );
      await svc.close();
      await client.close();
    });

    test('JetStream: a user denied $JS.API.STREAM.DELETE.> cannot delete streams', async () => {
      const admin = await v3.connect({ servers: users.url, user: 'alice', pass: 'alice-pw' });
      const dave = await v3.connect({ servers: users.url, user: 'dave', pass: 'dave-pw' });
      const jsmA = await jetstreamManager(admin);
      const jsmD = await jetstreamManager(dave);
      await jsmD.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
      await assert.rejects(within(jsmD.streams.delete('KEEP'), WAIT * 2, 'denied delete to fail'));
      const info = await jsmA.streams.info('KEEP');
      assert.equal(info.config.name, 'KEEP');
      assert.equal(await jsmA.streams.delete('KEEP'), true);
      await dave.close();
      await admin.close();
    });
  });
}
