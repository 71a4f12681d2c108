// The authorization block and auth flags as herald reads them (nats-server opts.go semantics,
// refusals for what herald cannot enforce), the safe-default start-up log, and what the
// monitoring port shows about auth (never a secret).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import * as v2 from 'nats';
import { Server } from '../../src/index.js';
import { applyNatsConf } from '../../src/config/load.js';
import { parseNatsConf } from '../../src/config/nats-conf.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { parseCommandLine } from '../../src/cli/args.js';
import { ConfigError } from '../../src/config/errors.js';
import { bcryptHash, startHerald } from './helpers.js';

const apply = (text: string) => applyNatsConf(parseNatsConf(text), defaultOptions('herald'));
const applyFails = (text: string, re: RegExp) =>
  assert.throws(
    () => apply(text),
    (e: unknown) => e instanceof ConfigError && re.test(e.message),
  );

test('authorization forms: token, single user, users with permissions, defaults, no_auth_user', () => {
  assert.equal(apply('authorization { token: abc }').options.auth.token, 'abc');
  const single = apply('authorization { user: u, password: p, timeout: 3 }').options;
  assert.deepEqual([single.auth.user, single.auth.password, single.authTimeoutMs], ['u', 'p', 3000]);
  const r = apply(`
    no_auth_user: guest
    authorization {
      default_permissions: { publish: "pub.>" }
      users: [
        { user: guest, password: "" }
        { user: a, pass: b, permissions: { publish: ["x", "y.>"], subscribe: { allow: "q.> grp", deny: ["q.secret"] }, allow_responses: { max: 3, expires: "30s" } } }
      ]
    }`).options.auth;
  assert.equal(r.noAuthUser, 'guest');
  assert.deepEqual(r.users[0]!.permissions, {
    publish: { allow: [{ subject: 'pub.>', queue: null }], deny: null },
    subscribe: null,
    responses: null,
  });
  assert.deepEqual(r.users[1]!.permissions, {
    publish: {
      allow: [
        { subject: 'x', queue: null },
        { subject: 'y.>', queue: null },
      ],
      deny: null,
    },
    subscribe: { allow: [{ subject: 'q.>', queue: 'grp' }], deny: [{ subject: 'q.secret', queue: null }] },
    responses: { maxMsgs: 3, expiresMs: 30_000 },
  });
  // allow_responses alone turns off the blanket publish allow (nats-server validateResponsePermissions).
  const resp = apply('authorization { users: [{ user: s, password: p, permissions: { allow_responses: true } }] }').options.auth;
  assert.deepEqual(resp.users[0]!.permissions, {
    publish: { allow: [], deny: null },
    subscribe: null,
    responses: { maxMsgs: 1, expiresMs: 120_000 },
  });
});

test('bad authorization input is a clear error that never echoes a secret', async () => {
  applyFails(
    'authorization { users: [{ user: a, password: "$2a$11$tooShort" }] }',
    /password: looks like a bcrypt hash .* not a valid one/,
  );
  assert.throws(
    () => apply('authorization { token: "$2b$99$abc" }'),
    (e: Error) => !e.message.includes('$2b$99$abc'),
  );
  applyFails('authorization { token: t, users: [{ user: a, password: b }] }', /can not have a token and a users array/);
  applyFails('authorization { user: a, password: b, users: [{ user: c, password: d }] }', /single user\/pass and a users array/);
  applyFails('authorization { user: a }', /user and password must be given together/);
  applyFails('authorization { users: [{ nkey: UNOTANKEY }] }', /nkey: expected a user public nkey/);
  applyFails('authorization { users: [{ user: a, password: b }, { user: a, password: c }] }', /duplicate user "a"/);
  applyFails(
    'authorization { users: [{ user: a, password: b, permissions: { publish: "bad..subject" } }] }',
    /expected a subject/,
  );
  applyFails('authorization { users: [{ user: a, password: b, permissions: { publish: "a q" } }] }', /expected a subject/);
  applyFails('authorization { users: [{ user: a, password: b, permissions: { publsh: "a" } }] }', /expected one of 'publish'/);
  applyFails(
    'authorization { users: [{ user: a, password: b, allowed_connection_types: ["STANDARD"] }] }',
    /does not implement this user setting/,
  );
  applyFails('authorization { users: [{ user: a, password: b, account: A }] }', /put the user under its account instead/);
  // accounts {} keep their own handling (refused or warned about by the config, never applied).
  assert.throws(() => parseCommandLine(['serve', '--user', 'x'], 'herald'), /--user and --pass must be given together/);
  // no_auth_user must name a password user.
  const o = apply('no_auth_user: ghost\nauthorization { users: [{ user: a, password: b }] }').options;
  await assert.rejects(
    Server.start({ ...o, port: 0, jetstream: false, logLevel: 'silent' }),
    /no_auth_user: "ghost" not present/,
  );
});

test('--user/--pass and --auth set the same settings as the conf (herald and nats-server spellings)', () => {
  const h = parseCommandLine(['serve', '--user', 'u', '--pass', 'p'], 'herald').options.auth;
  assert.deepEqual([h.user, h.password], ['u', 'p']);
  assert.equal(parseCommandLine(['--auth', 'tok'], 'nats-server').options.auth.token, 'tok');
  assert.throws(
    () => parseCommandLine(['--auth', 'tok', '--user', 'u', '--pass', 'p'], 'nats-server'),
    /token cannot be combined/,
  );
});

test('no_auth_user: a client without credentials is that user, with its permissions', async () => {
  const s = await startHerald(
    'no_auth_user: guest\nauthorization { users: [{ user: guest, password: g, permissions: { publish: "public.>" } }, { user: admin, password: a }] }',
  );
  try {
    const nc = await v2.connect({ servers: s.url });
    const err = (async () => {
      for await (const st of nc.status()) if (st.type === v2.Events.Error) return String(st.data);
      return '';
    })();
    nc.publish('public.x');
    nc.publish('private.x');
    assert.match(await err, /PERMISSIONS_VIOLATION/);
    await nc.close();
    await assert.rejects(v2.connect({ servers: s.url, user: 'admin', pass: 'wrong', reconnect: false }));
  } finally {
    await s.stop();
  }
});

test('monitoring: /varz auth_required, /connz?auth=true authorized_user, never a secret', async () => {
  const hash = bcryptHash('pw-secret-1');
  const s = await startHerald(`authorization { users: [{ user: mon, password: "${hash}" }] }`, { monitor: true });
  try {
    const nc = await v2.connect({ servers: s.url, user: 'mon', pass: 'pw-secret-1', name: 'watched' });
    await nc.flush();
    const base = s.herald!.monitorUrl!;
    const varzText = await (await fetch(`${base}/varz`)).text();
    const varz = JSON.parse(varzText) as Record<string, unknown>;
    assert.equal(varz.auth_required, true);
    const connzText = await (await fetch(`${base}/connz?auth=true`)).text();
    const conn = (JSON.parse(connzText) as { connections: Record<string, unknown>[] }).connections.find(
      (c) => c.name === 'watched',
    );
    assert.equal(conn?.authorized_user, 'mon');
    const plain = (JSON.parse(await (await fetch(`${base}/connz`)).text()) as { connections: Record<string, unknown>[] })
      .connections;
    assert.equal(plain.find((c) => c.name === 'watched')?.authorized_user, undefined);
    for (const text of [varzText, connzText]) {
      assert.ok(!text.includes('pw-secret-1') && !text.includes(hash), 'a secret leaked into monitoring');
    }
    await nc.close();
  } finally {
    await s.stop();
  }
});

test('safe defaults: the start-up log names loopback; a wide bind without auth warns naming the flags', async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const quiet = await Server.start({ port: 0, jetstream: false, logger });
  await quiet.close();
  assert.ok(
    lines.some((l) => /loopback only/.test(String(l.msg))),
    'no loopback line',
  );
  assert.ok(!lines.some((l) => /SECURITY WARNING/.test(String(l.msg))));
  lines.length = 0;
  const wide = await Server.start({ host: '0.0.0.0', port: 0, jetstream: false, logger });
  await wide.close();
  const warn = lines.find((l) => /SECURITY WARNING/.test(String(l.msg)));
  assert.ok(warn !== undefined, 'no warning for 0.0.0.0 without auth');
  assert.match(String(warn.msg), /--user\/--pass or --auth/);
  lines.length = 0;
  const guarded = await Server.start({
    host: '0.0.0.0',
    port: 0,
    jetstream: false,
    logger,
    auth: { token: 't', user: null, password: null, users: [], noAuthUser: null },
  });
  await guarded.close();
  assert.ok(!lines.some((l) => /SECURITY WARNING/.test(String(l.msg))));
});
