// Accounts with real clients (nats v2 and @nats-io/transport-node v3), the same conf and the same
// expectations on herald and on the real nats-server: separate subject spaces, stream imports
// (prefix and `to`), service imports whose replies route back (with allow_responses on the
// responder), no responders across an import, no_auth_user into an account, and the system
// account's CONNECT/DISCONNECT events visible only to system users.
import { test, before, after, afterEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as v2 from 'nats';
import * as v3 from '@nats-io/transport-node';
import { RawResp, cmd } from '../resp/helpers.js';
import { within } from '../helpers/bounded.js';
import { startHerald, startReferenceNats, type Target } from './helpers.js';
import { Server } from '../../src/index.js';

const CONF = `
accounts {
  A: {
    users: [
      { user: a, password: a }
      { user: responder, password: r, permissions: { subscribe: "svc.>", publish: "nothing", allow_responses: true } }
    ]
    exports: [ { stream: "ev.>" }, { service: "svc.>" }, { stream: "only.c", accounts: [C] } ]
  }
  B: {
    users: [ { user: b, password: b } ]
    imports: [
      { stream: { account: A, subject: "ev.>" }, prefix: fromA }
      { service: { account: A, subject: "svc.>" }, to: "asvc.>" }
    ]
  }
  C: {
    users: [ { user: c, password: c } ]
    imports: [ { stream: { account: A, subject: "ev.*" }, to: "mapped.*" }, { stream: { account: A, subject: "only.c" } } ]
  }
  D: { users: [ { user: d, password: d } ] }
  SYS: { users: [ { user: sys, password: sys } ] }
}
system_account: SYS
no_auth_user: d
`;
const WAIT = 5000;

const STARTS: [string, (conf: string) => Promise<Target>][] = [
  ['herald', (c) => startHerald(c)],
  ['nats-server', (c) => startReferenceNats(c)],
];

/** Messages a v2 subscription receives, with a wait for the first one matching `pred`. */
function recorder(
  nc: v2.NatsConnection,
  subject: string,
): { seen: v2.Msg[]; until(pred: (m: v2.Msg) => boolean): Promise<void> } {
  const seen: v2.Msg[] = [];
  const waiters: [(m: v2.Msg) => boolean, () => void][] = [];
  nc.subscribe(subject, {
    callback: (_e, m) => {
      seen.push(m);
      for (const w of [...waiters]) if (w[0](m)) w[1]();
    },
  });
  return {
    seen,
    until: (pred) => (seen.some(pred) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push([pred, resolve]))),
  };
}

const sc = v2.StringCodec();

for (const [name, start] of STARTS) {
  describe(`${name}: accounts with real clients`, () => {
    let t: Target;
    const open: { close(): Promise<void> }[] = [];
    const v2c = async (user: string, pass: string): Promise<v2.NatsConnection> => {
      const nc = await within(v2.connect({ port: t.port, user, pass, reconnect: false }), WAIT, `v2 connect as ${user}`);
      open.push(nc);
      return nc;
    };
    before(async () => {
      t = await start(CONF);
    });
    // Each test starts with no client of an earlier one (a `>` subscriber would answer requests).
    afterEach(async () => {
      for (const c of open.splice(0)) await c.close().catch(() => undefined);
    });
    after(async () => {
      await t?.stop();
    });

    test('a message published in one account never reaches another that does not import it', async () => {
      const a = await v2c('a', 'a');
      const b = await v2c('b', 'b');
      const d = await v2c('d', 'd');
      const inB = recorder(b, 'x.>');
      const inD = recorder(d, 'x.>');
      await b.flush();
      await d.flush();
      a.publish('x.secret', sc.encode('from A'));
      await a.flush();
      // Each account's own publish arrives after anything A's publish could have caused.
      b.publish('x.sentinel');
      d.publish('x.sentinel');
      await within(
        inB.until((m) => m.subject === 'x.sentinel'),
        WAIT,
        'B sentinel',
      );
      await within(
        inD.until((m) => m.subject === 'x.sentinel'),
        WAIT,
        'D sentinel',
      );
      assert.deepEqual(
        inB.seen.map((m) => m.subject),
        ['x.sentinel'],
      );
      assert.deepEqual(
        inD.seen.map((m) => m.subject),
        ['x.sentinel'],
      );
    });

    test('stream imports: prefix, `to` mapping and an export restricted to one account', async () => {
      const a = await v2c('a', 'a');
      const b = await v2c('b', 'b');
      const c = await v2c('c', 'c');
      const inB = recorder(b, '>');
      const inC = recorder(c, '>');
      await b.flush();
      await c.flush();
      a.publish('ev.created', sc.encode('1'));
      a.publish('only.c', sc.encode('2'));
      await a.flush();
      b.publish('done');
      c.publish('done');
      await within(
        inB.until((m) => m.subject === 'done'),
        WAIT,
        'B done',
      );
      await within(
        inC.until((m) => m.subject === 'done'),
        WAIT,
        'C done',
      );
      assert.deepEqual(
        inB.seen.map((m) => `${m.subject}=${sc.decode(m.data)}`),
        ['fromA.ev.created=1', 'done='],
      );
      assert.deepEqual(
        inC.seen.map((m) => `${m.subject}=${sc.decode(m.data)}`),
        ['mapped.created=1', 'only.c=2', 'done='],
      );
    });

    test('service import (v3): the request crosses with a _R_ reply and the answer routes back', async () => {
      const responder = await v2c('responder', 'r');
      const seenReplies: string[] = [];
      responder.subscribe('svc.>', {
        callback: (_e, m) => {
          seenReplies.push(m.reply ?? '');
          // allow_responses: the responder may publish nothing but replies.
          m.respond(sc.encode(`echo ${m.subject} ${sc.decode(m.data)}`));
        },
      });
      await responder.flush();
      const b = await within(v3.connect({ port: t.port, user: 'b', pass: 'b', reconnect: false }), WAIT, 'v3 connect');
      open.push(b);
      const r = await within(b.request('asvc.time', 'hi', { timeout: WAIT }), WAIT * 2, 'service reply');
      assert.equal(r.string(), 'echo svc.time hi');
      assert.equal(seenReplies.length, 1);
      assert.match(seenReplies[0]!, /^_R_\./);
      // The exporter's subject is not in B's space: only the imported `asvc.>` is.
      await assert.rejects(
        within(b.request('svc.time', 'hi', { timeout: WAIT }), WAIT * 2, 'no responders'),
        (e: unknown) => e instanceof v3.errors.RequestError && e.isNoResponders(),
      );
    });

    test('a service import without a responder in the exporting account times out, not no-responders (v2)', async () => {
      // nats-server 2.9 counts the import as interest: the request is never answered.
      const b = await v2c('b', 'b');
      await assert.rejects(
        within(b.request('asvc.nobody-here', sc.encode('x'), { timeout: 300 }), WAIT, 'request timeout'),
        (e: { code?: string }) => e.code === v2.ErrorCode.Timeout,
      );
    });

    test('no_auth_user puts a client without credentials into its account', async () => {
      const anon = await within(v2.connect({ port: t.port, reconnect: false }), WAIT, 'anonymous connect');
      open.push(anon);
      const d = await v2c('d', 'd');
      const inAnon = recorder(anon, 'hello');
      await anon.flush();
      d.publish('hello', sc.encode('D'));
      await within(
        inAnon.until(() => true),
        WAIT,
        'message from D to the no_auth_user client',
      );
      assert.equal(sc.decode(inAnon.seen[0]!.data), 'D');
    });

    test('system account: CONNECT/DISCONNECT events in nats-server shape, visible only to system users', async () => {
      const sys = await v2c('sys', 'sys');
      const a = await v2c('a', 'a');
      const events = recorder(sys, '$SYS.ACCOUNT.A.*');
      const snoop = recorder(a, '$SYS.>');
      await sys.flush();
      await a.flush();
      const c = await v2c('a', 'a');
      await c.close();
      await within(
        events.until((m) => m.subject.endsWith('.DISCONNECT')),
        WAIT,
        'DISCONNECT event',
      );
      const byKind = new Map(events.seen.map((m) => [m.subject.split('.').pop(), JSON.parse(sc.decode(m.data))]));
      const conn = byKind.get('CONNECT');
      const disc = byKind.get('DISCONNECT');
      assert.equal(conn.type, 'io.nats.server.advisory.v1.client_connect');
      assert.equal(disc.type, 'io.nats.server.advisory.v1.client_disconnect');
      for (const e of [conn, disc]) {
        assert.deepEqual(Object.keys(e.server).sort(), ['host', 'id', 'jetstream', 'name', 'seq', 'time', 'ver']);
        assert.equal(e.client.acc, 'A');
        assert.equal(e.client.user, 'a');
        assert.equal(e.client.kind, 'Client');
        assert.equal(e.client.client_type, 'nats');
        assert.equal(e.client.lang, 'nats.js');
      }
      assert.equal(disc.reason, 'Client Closed');
      assert.deepEqual(Object.keys(disc).sort(), ['client', 'id', 'reason', 'received', 'sent', 'server', 'timestamp', 'type']);
      assert.ok(typeof disc.client.stop === 'string');
      // A user of A subscribed to `$SYS.>` in its own space: nothing arrives there.
      a.publish('$SYS.sentinel');
      await within(
        snoop.until((m) => m.subject === '$SYS.sentinel'),
        WAIT,
        'sentinel in A',
      );
      assert.deepEqual(
        snoop.seen.map((m) => m.subject),
        ['$SYS.sentinel'],
      );
    });
  });
}

describe('herald: monitoring shows accounts', () => {
  test('/accountz lists accounts and details one; /connz?auth=1 names the account; /subsz?acc= reads its sublist', async () => {
    const t = await startHerald(CONF, { monitor: true });
    const nc = await within(v2.connect({ port: t.port, user: 'b', pass: 'b', reconnect: false }), WAIT, 'connect b');
    try {
      nc.subscribe('watch.me');
      await nc.flush();
      const base = t.herald!.monitorUrl!;
      const get = async (path: string): Promise<Record<string, any>> =>
        (await fetch(`${base}${path}`)).json() as Promise<Record<string, any>>;
      const list = await get('/accountz');
      assert.equal(list.system_account, 'SYS');
      assert.deepEqual(list.accounts, ['$G', 'A', 'B', 'C', 'D', 'SYS']);
      const b = (await get('/accountz?acc=B')).account_detail;
      assert.equal(b.account_name, 'B');
      assert.equal(b.client_connections, 1);
      assert.equal(b.jetstream_enabled, false);
      assert.deepEqual(
        b.imports.map(
          (i: { type: string; account: string; subject: string; to?: string }) => `${i.type} ${i.account} ${i.subject} ${i.to}`,
        ),
        ['stream A ev.> fromA.ev.>', 'service A svc.> asvc.>'],
      );
      const connz = await get('/connz?auth=1');
      assert.deepEqual(
        connz.connections.map((c: { account: string; authorized_user: string }) => `${c.authorized_user}@${c.account}`),
        ['b@B'],
      );
      const subsz = await get('/subsz?acc=B&subs=1');
      assert.ok(
        subsz.subscriptions_list.some((s: { subject: string; account: string }) => s.subject === 'watch.me' && s.account === 'B'),
      );
      assert.equal((await fetch(`${base}/accountz?acc=NOPE`)).status, 400);
    } finally {
      await nc.close();
      await t.stop();
    }
  });
});

describe('herald: the Redis door serves the global account only', () => {
  test('a user of an account cannot log in through Redis AUTH, and no_auth_user of an account does not apply there', async () => {
    const t = await startHerald(CONF);
    const s = await Server.start({
      ...t.herald!.options,
      port: 0,
      redisPort: 0,
      jetstream: false,
      dataDir: `${t.herald!.options.dataDir}-redis`,
    });
    const c = await RawResp.connect(s.redis!.port);
    try {
      // no_auth_user is `d`, a user of account D: it does not stand in on the Redis door.
      c.send(Buffer.concat([cmd('PUBLISH', 'x', 'y'), cmd('AUTH', 'a', 'a')]));
      assert.equal(
        (await c.read(2)).toString('latin1'),
        '-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n',
      );
    } finally {
      c.close();
      await s.close();
      await t.stop();
    }
  });
});
