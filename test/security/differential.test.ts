// Differential: the same conf file on herald and on the real nats-server; raw clients send the same
// CONNECT/PUB/SUB scripts and what they observe after INFO (bytes, close) must be identical, as
// must the auth fields of INFO (nats-server auth.go / client.go: authViolation,
// pubPermissionViolation, subPermissionViolation).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createUser } from 'nkeys.js';
import { bcryptHash, startHerald, startReferenceNats, rawAuth, type Target, type RawSeen } from './helpers.js';

const alice = { user: 'alice', pass: 'alice-pw' };
const bob = { user: 'bob', pass: 'bob-pw' };
const nk = createUser();
const otherNk = createUser();
const nkPub = nk.getPublicKey();

const CONF = `
authorization {
  timeout: 2
  users = [
    { user: alice, password: "${alice.pass}" }
    { user: bob, password: "${bcryptHash(bob.pass)}" }
    { user: carol, password: carol-pw, permissions: {
        publish: { allow: ["orders.>", "jobs.>"], deny: "orders.secret" }
        subscribe: { allow: ["orders.*", "orders.new", "orders.internal", "jobs.> workers"], deny: ["orders.internal"] }
    } }
    { user: dave, password: dave-pw, permissions: { publish: { deny: ["$JS.API.STREAM.DELETE.>"] } } }
    { nkey: ${nkPub} }
  ]
}
`;

const CONNECT = (o: Record<string, unknown>): string =>
  `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, ...o })}\r\n`;
const untilPong = (r: string): boolean => r.includes('PONG\r\n');
const untilErr = (r: string): boolean => r.includes('-ERR');

function sign(kp: ReturnType<typeof createUser>, nonce: unknown): string {
  return Buffer.from(kp.sign(Buffer.from(String(nonce)))).toString('base64url');
}

/** Each scenario: a script built from INFO, and when the answer is complete. */
const SCENARIOS: Record<string, [(info: Record<string, unknown>) => string[], (r: string) => boolean]> = {
  'no credentials': [() => [CONNECT({}), 'PING\r\n'], untilErr],
  'plain password': [() => [CONNECT(alice), 'PING\r\n'], untilPong],
  'wrong password': [() => [CONNECT({ ...alice, pass: 'nope' }), 'PING\r\n'], untilErr],
  'unknown user': [() => [CONNECT({ user: 'mallory', pass: 'x' }), 'PING\r\n'], untilErr],
  'token given to a users config': [() => [CONNECT({ auth_token: 'alice-pw' }), 'PING\r\n'], untilErr],
  'bcrypt password': [() => [CONNECT(bob), 'PING\r\n'], untilPong],
  'bcrypt wrong password': [() => [CONNECT({ ...bob, pass: 'bob-pw ' }), 'PING\r\n'], untilErr],
  'nkey signs the nonce': [(i) => [CONNECT({ nkey: nkPub, sig: sign(nk, i.nonce) }), 'PING\r\n'], untilPong],
  'nkey, signature by another key': [(i) => [CONNECT({ nkey: nkPub, sig: sign(otherNk, i.nonce) }), 'PING\r\n'], untilErr],
  'nkey, signature of another nonce': [() => [CONNECT({ nkey: nkPub, sig: sign(nk, 'replayed-nonce') }), 'PING\r\n'], untilErr],
  'nkey, no signature': [() => [CONNECT({ nkey: nkPub }), 'PING\r\n'], untilErr],
  'nkey, garbage signature': [() => [CONNECT({ nkey: nkPub, sig: '!!not base64!!' }), 'PING\r\n'], untilErr],
  'unknown nkey': [(i) => [CONNECT({ nkey: otherNk.getPublicKey(), sig: sign(otherNk, i.nonce) }), 'PING\r\n'], untilErr],
  'nkey that is not a key': [() => [CONNECT({ nkey: 'UNOTAKEY', sig: 'AAAA' }), 'PING\r\n'], untilErr],
  'signature of the wrong JSON type': [() => [CONNECT({ nkey: nkPub, sig: { a: 1 } }), 'PING\r\n'], (r) => r.length > 0],
  'token of the wrong JSON type': [() => [CONNECT({ auth_token: ['x'] }), 'PING\r\n'], (r) => r.length > 0],
  'password of the wrong JSON type': [() => [CONNECT({ user: 'alice', pass: 42 }), 'PING\r\n'], (r) => r.length > 0],
  'carol: publish allow/deny (verbose)': [
    () => [
      CONNECT({ user: 'carol', pass: 'carol-pw', verbose: true }),
      'PUB orders.new 1\r\na\r\n',
      'PUB orders.secret 1\r\nb\r\n',
      'PUB other.thing 1\r\nc\r\n',
      'PUB jobs.x.y 1\r\nd\r\n',
      'PING\r\n',
    ],
    untilPong,
  ],
  'carol: subscribe allow/deny, queue permissions, deny filter on a wildcard': [
    () => [
      CONNECT({ user: 'carol', pass: 'carol-pw' }),
      'SUB orders.new 1\r\n',
      'SUB orders.internal 2\r\n',
      'SUB other 3\r\n',
      'SUB jobs.x workers 4\r\n',
      'SUB jobs.x 5\r\n',
      'SUB jobs.x others 6\r\n',
      'SUB orders.* 7\r\n',
      'SUB orders.> 8\r\n',
      'PUB orders.new 1\r\nx\r\n',
      'PUB orders.internal 1\r\ny\r\n',
      'PUB jobs.x 1\r\nz\r\n',
      'PING\r\n',
    ],
    untilPong,
  ],
  'dave may not delete streams but may publish elsewhere': [
    () => [
      CONNECT({ user: 'dave', pass: 'dave-pw' }),
      'PUB $JS.API.STREAM.DELETE.ORDERS 0\r\n\r\n',
      'PUB $JS.API.INFO 0\r\n\r\n',
      'PING\r\n',
    ],
    untilPong,
  ],
};

/** A run's observation without what differs by design (ids, nonces). */
function observed(s: RawSeen): object {
  return {
    auth_required: s.info.auth_required,
    nonce: typeof s.info.nonce === 'string' ? (s.info.nonce as string).length : undefined,
    rest: s.rest,
    closed: s.closed,
  };
}

describe('authentication and permissions, herald vs nats-server (same conf)', () => {
  let herald: Target;
  let reference: Target;

  before(async () => {
    herald = await startHerald(CONF);
    reference = await startReferenceNats(CONF);
  });
  after(async () => {
    await herald?.stop();
    await reference?.stop();
  });

  for (const [name, [script, done]] of Object.entries(SCENARIOS)) {
    test(name, async () => {
      const h = observed(await rawAuth(herald.port, script, done));
      const n = observed(await rawAuth(reference.port, script, done));
      assert.deepEqual(h, n, `${name}: herald saw ${JSON.stringify(h)}, nats-server ${JSON.stringify(n)}`);
    });
  }

  test('a failed login affects no other connection', async () => {
    const good = rawAuth(herald.port, () => [CONNECT(alice), 'SUB a 1\r\n', 'PING\r\n'], untilPong);
    const bad = rawAuth(herald.port, () => [CONNECT({ ...alice, pass: 'x' }), 'PING\r\n'], untilErr);
    const [g, b] = await Promise.all([good, bad]);
    assert.equal(g.rest, 'PONG\r\n');
    assert.equal(g.closed, false);
    assert.equal(b.rest, "-ERR 'Authorization Violation'\r\n");
    assert.equal(b.closed, true);
  });
});

describe('token authentication, herald vs nats-server', () => {
  const TOKEN_CONF = 'authorization { token: "s3cr3t-t0ken" }\n';
  let herald: Target;
  let reference: Target;
  before(async () => {
    herald = await startHerald(TOKEN_CONF);
    reference = await startReferenceNats(TOKEN_CONF);
  });
  after(async () => {
    await herald?.stop();
    await reference?.stop();
  });
  const cases: Record<string, [string[], (r: string) => boolean]> = {
    'right token': [[CONNECT({ auth_token: 's3cr3t-t0ken' }), 'PING\r\n'], untilPong],
    'wrong token': [[CONNECT({ auth_token: 'guess' }), 'PING\r\n'], untilErr],
    'user/pass instead of a token': [[CONNECT({ user: 'a', pass: 's3cr3t-t0ken' }), 'PING\r\n'], untilErr],
    'PING before CONNECT': [['PING\r\n'], (r) => r.length > 0],
    'SUB before CONNECT': [['SUB foo 1\r\n', CONNECT({ auth_token: 's3cr3t-t0ken' })], (r) => r.length > 0],
    'PUB before CONNECT': [['PUB foo 1\r\nx\r\n'], (r) => r.length > 0],
  };
  for (const [name, [chunks, done]] of Object.entries(cases)) {
    test(name, async () => {
      const h = observed(await rawAuth(herald.port, () => chunks, done));
      const n = observed(await rawAuth(reference.port, () => chunks, done));
      assert.deepEqual(h, n);
    });
  }
});

test('auth timeout: a client that never sends CONNECT gets the same error and close', async () => {
  const conf = 'authorization { token: t, timeout: 0.5 }\n';
  const targets = [await startHerald(conf), await startReferenceNats(conf)];
  try {
    const seen = await Promise.all(targets.map(async (t) => observed(await rawAuth(t.port, () => [], untilErr))));
    assert.deepEqual(seen[0], seen[1]);
    assert.deepEqual(seen[0], { auth_required: true, nonce: undefined, rest: "-ERR 'Authentication Timeout'\r\n", closed: true });
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
});
