/**
 * AUTH and the login step HELLO … AUTH shares (Redis acl.c authCommand, ACLAuthenticateUser),
 * over herald's protocol-free `authenticate()` (src/core/auth.ts), so a Redis client logs in with
 * the same users, passwords (plain or bcrypt) and permissions as a NATS client:
 * - `requirepass` (CONFIG SET requirepass) is the password of the `default` user: `AUTH <pass>`
 *   or `AUTH default <pass>`;
 * - herald's `authorization { users [...] }` or `{ user, password }`: `AUTH <user> <pass>`;
 * - `authorization { token }`: `AUTH <token>`;
 * - with none of them, the `default` user has no password, as Redis's `nopass` default user.
 * docs/security.md ("The Redis door") states the rule. `authenticate()` may answer through a
 * Promise (bcrypt on a worker thread): the connection then holds its later commands until the
 * verdict (RespConnection.settle).
 */
import { authenticate, type AuthSettings, type Credentials } from '../../core/auth.js';
import { RedisErrors } from '../../core/errors.js';
import type { RespConnection } from '../connection.js';
import { def, type CommandSpec } from './spec.js';

/** The Redis user every connection starts as (and what CLIENT LIST shows without a login). */
export const DEFAULT_USER = 'default';

/** What `authenticate` checks for a Redis login of `user` with `pass`. */
function credentialsFor(c: RespConnection, user: string, pass: Buffer): [AuthSettings, Credentials] | null {
  const auth = c.door.auth;
  const requirepass = c.door.requirepass;
  if (user === DEFAULT_USER && requirepass !== '') {
    // requirepass is the default user's password: checked as a single-user setting, so a
    // bcrypt hash works there too. CONFIG SET keeps its bytes as latin1, so compare them so.
    return [
      { token: null, user: DEFAULT_USER, password: requirepass, users: [], noAuthUser: null },
      { user, pass: pass.toString('latin1') },
    ];
  }
  // herald's users and tokens come from a UTF-8 config file: compare the client's bytes as UTF-8.
  const text = pass.toString('utf8');
  if (user === DEFAULT_USER && auth.token !== null) return [auth, { auth_token: text }];
  // Certificate-mapped users have no password: never a way in without the certificate (R2-5).
  if (c.door.usersByCertificate && auth.users.some((u) => !u.nkey)) return null;
  return [auth, { user, pass: text }];
}

/**
 * Logs `c` in as `user`; `done(true)` once logged in, `done(false)` for a wrong pair (the
 * connection keeps its previous login, as Redis does). Without any authentication configured only
 * the password-less `default` user exists.
 */
export function login(c: RespConnection, user: string, pass: Buffer, done: (ok: boolean) => void): void {
  if (!c.door.authRequired) return done(user === DEFAULT_USER);
  const check = credentialsFor(c, user, pass);
  if (check === null) {
    c.door.log.warn(
      { id: c.id, addr: c.addr, user },
      'Redis AUTH refused: users are identified by client certificates (verify_and_map)',
    );
    return done(false);
  }
  const [settings, creds] = check;
  c.settle(authenticate(settings, creds, '', { signal: c.closing.signal, origin: c.ip }), (who) => {
    if (who === null) {
      c.door.log.warn({ id: c.id, addr: c.addr, user }, 'Redis AUTH failed');
      return done(false);
    }
    // The Redis door serves the global account only (its channels and keys are $G's): a user of
    // another account logging in here would escape that account's isolation, so it is refused.
    if (who.account !== undefined && who.account !== '$G') {
      c.door.log.warn({ id: c.id, addr: c.addr, user, account: who.account }, 'Redis AUTH refused: user belongs to an account');
      return done(false);
    }
    c.loggedIn(who.user === '' ? user : who.user, who.permissions);
    done(true);
  });
}

function auth(c: RespConnection, argv: Buffer[]): void {
  if (argv.length > 3) return c.error(RedisErrors.Syntax);
  // acl.c authCommand: one argument with no password anywhere is a configuration mistake.
  if (argv.length === 2 && !c.door.authRequired) return c.error(RedisErrors.AuthNoPassword);
  // Strings now: the argument Buffers are views of the read, gone if the check is asynchronous.
  const user = argv.length === 3 ? argv[1].toString('utf8') : DEFAULT_USER;
  const pass = Buffer.from(argv[argv.length - 1]);
  login(c, user, pass, (ok) => {
    if (ok) c.writer.simple('OK');
    else c.error(RedisErrors.WrongPass);
  });
}

/** The authentication family's table entries. */
export const AUTH_COMMANDS: readonly CommandSpec[] = [
  def({
    name: 'auth',
    arity: -2,
    group: 'connection',
    since: '1.0.0',
    summary: 'Authenticates the connection.',
    flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth'],
    handler: auth,
  }),
];
