/**
 * SECOND SECURITY REVIEW (issue 9, review 2): each test shows one finding and states the safe
 * behaviour. Each FAILED on the commit it was written against (a303188) and passes since its fix
 * (R2-1 config, R2-2/R2-5 Redis door, R2-3/R2-5 NATS door, R2-4 server budget). Do not change
 * their assertions to make them pass.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { AuthSettings } from '../../src/core/auth.js';
import { parseNatsConf } from '../../src/config/nats-conf.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { startHerald as startRedisHerald } from '../resp/helpers.js';
import { RawConnection } from '../helpers/raw.js';
import { startHerald as startNatsHerald, writeConf, type Target } from './helpers.js';
import { makeTestCerts, tlsBlock, type TestCerts } from './tls-certs.js';
import { Server } from '../../src/index.js';
import { applyNatsConf, loadConfigFile } from '../../src/config/load.js';
import { join } from 'node:path';
import { readdirSync, rmSync, statSync } from 'node:fs';

const WAIT_MS = 3000;

const apply = (text: string) => applyNatsConf(parseNatsConf(text), defaultOptions('herald'));

/** True when applying `text` throws (a refused config) or leaves authentication required. */
function refusedOrAuthRequired(text: string): boolean {
  try {
    const { options } = applyNatsConf(parseNatsConf(text), defaultOptions('herald'));
    const a = options.auth;
    return a.token !== null || a.user !== null || a.users.length > 0;
  } catch {
    return true;
  }
}

// R2-1 (medium): a misspelt auth key is only warned about, and herald starts with NO
// authentication. nats-server 2.9.10 refuses each of these files at start
// (`unknown field "authorisation"` / `"usres"` / `"accunts"`). A config whose auth part is
// ignored widens access to everyone; it should be refused, like a misspelt permissions key is.
describe('R2-1: a misspelt authorization key never leaves the server open', () => {
  test('top-level `authorisation` (British spelling)', () => {
    assert.ok(
      refusedOrAuthRequired('authorisation { users: [ {user: a, password: a} ] }'),
      'authorisation {} ignored with a warning: the server runs without authentication',
    );
  });
  test('`authorization { usres }`', () => {
    assert.ok(
      refusedOrAuthRequired('authorization { usres: [ {user: a, password: a} ] }'),
      'authorization.usres ignored with a warning: the server runs without authentication',
    );
  });
  test('top-level `accunts`', () => {
    assert.ok(
      refusedOrAuthRequired('accunts { A: { users: [ {user: a, password: a} ] } }'),
      'accunts {} ignored with a warning: the server runs without authentication',
    );
  });
  test('the safe case for comparison: a correct file requires auth', () => {
    assert.ok(apply('authorization { users: [ {user: a, password: a} ] }').options.auth.users.length === 1);
  });
});

// R2-2 (medium): `requirepass` set while herald had no auth config survives a reload that adds
// herald users. CONFIG SET requirepass is refused once users exist (F3 fix), but the value already
// set stays, and `AUTH default <it>` still logs in as the unrestricted `default` user: a
// restricted user (or anyone who knows that old password) can then publish to $JS.API.>.
describe('R2-2: an old requirepass does not outlive a reload that configures herald users', () => {
  const AUTH: AuthSettings = {
    token: null,
    user: null,
    password: null,
    users: [
      {
        name: 'red',
        password: 'red',
        nkey: false,
        permissions: { publish: { allow: [{ subject: 'x', queue: null }], deny: null }, subscribe: null, responses: null },
      },
    ],
    noAuthUser: null,
  };
  let herald: Server;
  before(async () => {
    herald = await startRedisHerald({});
  });
  after(() => herald.close());

  test('AUTH default <old requirepass> after the reload is refused', async () => {
    const setup = new Redis({ port: herald.redis!.port });
    await setup.call('config', 'set', 'requirepass', 'oldpw');
    setup.disconnect();
    await herald.reload({ ...herald.options, auth: AUTH });
    const s = await RawConnection.connect(herald.redis!.port);
    try {
      s.write('AUTH default oldpw\r\nPUBLISH $JS.API.STREAM.LIST {}\r\nPING\r\n');
      await s.waitFor((d) => d.toString().includes('PONG') || d.toString().split('\r\n').length > 3, WAIT_MS);
      const out = s.data.toString();
      assert.match(
        out,
        /WRONGPASS|NOPERM|NOAUTH/,
        `after the reload that added herald users, the old requirepass still logs in as the unrestricted default user: ${JSON.stringify(out)}`,
      );
    } finally {
      s.destroy();
    }
  });
});

// R2-3 (high): the subscribe deny list stops filtering after a repeated CONNECT. A wildcard SUB
// that overlaps the deny list is allowed because deliveries are filtered (PermissionChecker
// canSubscribe sets `filterDeliveries`); a second CONNECT — with the user's OWN credentials —
// builds a fresh PermissionChecker (src/nats/connection.ts authVerdict) whose flag is false, so
// the existing `SUB >` now receives the denied subjects. nats-server 2.9.10 keeps filtering
// (checked by hand with the same conf: only `public.x` arrives).
describe('R2-3: a repeated CONNECT does not switch off the subscribe deny filter', () => {
  let h: Target;
  before(async () => {
    h = await startNatsHerald(`
authorization { users: [
  {user: lim, password: lim, permissions: { subscribe: { deny: ["secret.>"] } } }
  {user: adm, password: adm}
] }`);
  });
  after(() => h.stop());

  test('SUB > then CONNECT again as the same user: secret.x is still not delivered', async () => {
    const lim = await RawConnection.connect(h.port);
    const adm = await RawConnection.connect(h.port);
    try {
      assert.ok(await lim.waitFor((d) => d.includes(0x0a), WAIT_MS), 'no INFO');
      lim.write(
        'CONNECT {"verbose":false,"user":"lim","pass":"lim"}\r\nSUB > 1\r\n' +
          'CONNECT {"verbose":false,"user":"lim","pass":"lim"}\r\nPING\r\n',
      );
      assert.ok(await lim.waitFor((d) => d.toString().includes('PONG'), WAIT_MS), 'no PONG (lim)');
      assert.ok(await adm.waitFor((d) => d.includes(0x0a), WAIT_MS), 'no INFO (adm)');
      adm.write(
        'CONNECT {"verbose":false,"user":"adm","pass":"adm"}\r\nPUB secret.x 6\r\nsecret\r\nPUB public.x 2\r\nok\r\nPING\r\n',
      );
      assert.ok(await adm.waitFor((d) => d.toString().includes('PONG'), WAIT_MS), 'no PONG (adm)');
      assert.ok(await lim.waitFor((d) => d.toString().includes('MSG public.x'), WAIT_MS), 'public.x never arrived');
      assert.doesNotMatch(lim.data.toString(), /MSG secret\.x/, 'a denied subject was delivered after the repeated CONNECT');
    } finally {
      lim.destroy();
      adm.destroy();
    }
  });
});

// R2-4 (the server JetStream budget across accounts) is in server-budget.test.ts.

// R2-5 (high when the Redis door is on, which is the default): users that exist only to be named
// by a client certificate (`tls { verify_and_map: true }`, users without a password, as
// nats-server documents them) can be logged in as over the Redis door with an EMPTY password:
// `AUTH "O=Herald, CN=bob" ""`. The NATS door demands the certificate (src/nats/connection.ts
// verify → mapCertificateUser), but the Redis door checks only the password, and a mapped user's
// configured password is '' (src/config/auth-conf.ts parseUsers: `pass ?? ''`). Anyone who can
// reach the Redis port (127.0.0.1:6379 by default) becomes that user with no certificate.
describe('R2-5: a certificate-mapped user cannot log in without its certificate (Redis door; NATS door with allow_non_tls)', () => {
  let certs: TestCerts;
  let herald: Server;
  let dir: string;
  before(async () => {
    certs = makeTestCerts();
    const w = writeConf(
      tlsBlock(certs, 'verify_and_map: true') +
        'allow_non_tls: true\n' +
        `authorization { users = [ { user: "O=Herald, CN=bob" }, { user: "alice@example.com", permissions: { publish: "tls.>" } } ] }\n`,
    );
    dir = w.dir;
    const { options } = loadConfigFile(w.file, defaultOptions('herald'));
    herald = await Server.start({
      ...options,
      port: 0,
      httpPort: null,
      redisPort: 0,
      redisStore: 'memory',
      jetstream: false,
      dataDir: join(dir, 'data'),
      logLevel: 'silent',
    });
  });
  after(async () => {
    await herald.close();
    certs.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  test('AUTH <mapped user> "" is refused', async () => {
    const s = await RawConnection.connect(herald.redis!.port);
    try {
      s.write('*3\r\n$4\r\nAUTH\r\n$16\r\nO=Herald, CN=bob\r\n$0\r\n\r\nPUBLISH $JS.API.STREAM.LIST {}\r\nPING\r\n');
      await s.waitFor((d) => d.toString().includes('PONG') || d.toString().split('\r\n').length > 3, WAIT_MS);
      const out = s.data.toString();
      assert.match(
        out,
        /^-WRONGPASS/,
        `a certificate-only user logged in over Redis with an empty password: ${JSON.stringify(out)}`,
      );
    } finally {
      s.destroy();
    }
  });
  // Same root cause on the NATS door when `allow_non_tls` is set: a plaintext client names the
  // mapped user with an empty password. nats-server 2.9.10 answers -ERR 'Authorization
  // Violation' (auth.go checkClientTLSCertSubject: no TLS state, no login), checked by hand.
  test('NATS door, allow_non_tls: a plaintext CONNECT as a mapped user is refused', async () => {
    const c = await RawConnection.connect(herald.port);
    try {
      assert.ok(await c.waitFor((d) => d.includes(0x0a), WAIT_MS), 'no INFO');
      c.write('CONNECT {"verbose":false,"user":"O=Herald, CN=bob","pass":""}\r\nPING\r\n');
      await c.waitFor((d) => /PONG|-ERR/.test(d.toString()), WAIT_MS);
      assert.match(
        c.data.toString(),
        /-ERR 'Authorization Violation'/,
        'a plaintext client logged in as a certificate-mapped user',
      );
    } finally {
      c.destroy();
    }
  });
});

// R2-6 (low, local disclosure): stream directories and files are created with the process umask
// (typically 0755 / 0644), so every local user can read stored messages (and the Redis keyspace
// log). nats-server's filestore creates its directories 0750 and files 0640 (filestore.go
// defaultDirPerms / defaultFilePerms).
describe('R2-6: stored messages are not world-readable', () => {
  let h: Target;
  before(async () => {
    h = await startNatsHerald('', { jetstream: true });
  });
  after(() => h.stop());

  test('no file or directory under <data>/jetstream grants access to others', async () => {
    const nc = await connect({ port: h.port });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'PERM', subjects: ['perm.>'] });
      await nc.request('perm.1', 'secret payload', { timeout: WAIT_MS });
    } finally {
      await nc.close();
    }
    const root = join(h.herald!.options.dataDir, 'jetstream');
    const open: string[] = [];
    const walk = (p: string): void => {
      const st = statSync(p);
      if ((st.mode & 0o007) !== 0) open.push(`${(st.mode & 0o777).toString(8)} ${p}`);
      if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    };
    walk(root);
    assert.deepEqual(open, [], 'stream files/directories readable by other local users');
  });
});
