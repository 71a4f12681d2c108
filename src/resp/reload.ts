/**
 * The Redis door's side of a config reload (SIGHUP, `herald reload`; Server.reload): what happens
 * to Redis clients already logged in when herald's users, passwords, token or permissions change.
 * It follows what Redis 7.0 does when its users change under connected clients (acl.c):
 * - a client whose user is gone is closed without a reply (ACLFreeUserAndKillClients, which
 *   DELUSER and ACL LOAD use) — Redis has no push that says "logged out";
 * - a client whose user's password (or the token, for `default`) changed is closed the same
 *   way, as ACL LOAD does for every user it replaces: the login it made is no longer one the
 *   server would accept;
 * - a client whose user's permissions changed gets the new ones for every later command, and is
 *   closed when one of its channels, patterns or shard channels is no longer allowed
 *   (ACLKillPubsubClientsIfNeeded): Redis cannot tell a subscriber that a subscription was
 *   dropped, so a silent drop would leave the client waiting for messages that never come; a
 *   closed client reconnects and its resubscribe gets NOPERM.
 * A `default` login made with `requirepass` (CONFIG SET, a runtime setting a reload does not
 * touch) is left alone. Costs one pass over the door's connections per reload.
 */
import { authRequired, type AuthSettings, type Permissions } from '../core/auth.js';
import { DEFAULT_USER } from './commands/auth.js';
import type { RespConnection } from './connection.js';
import type { RespDoor } from './server.js';

/** What a Redis login as one user rests on: its secret, permissions and account. */
interface LoginBasis {
  readonly secret: string | null;
  readonly permissions: Permissions | null;
  readonly account: string | undefined;
}

/**
 * The settings a login as `user` was checked against (the same order as commands/auth.ts
 * credentialsFor and core/auth.ts authenticate); undefined when `a` has no such login.
 */
function basisOf(a: AuthSettings, user: string): LoginBasis | undefined {
  if (!authRequired(a)) return user === DEFAULT_USER ? { secret: null, permissions: null, account: undefined } : undefined;
  if (user === DEFAULT_USER && a.token !== null) return { secret: `token:${a.token}`, permissions: null, account: undefined };
  if (a.users.some((u) => !u.nkey)) {
    const u = a.users.find((x) => !x.nkey && x.name === user);
    return u === undefined ? undefined : { secret: `user:${u.password ?? ''}`, permissions: u.permissions, account: u.account };
  }
  if (a.user !== null && a.user === user) return { secret: `user:${a.password ?? ''}`, permissions: null, account: undefined };
  return undefined;
}

/** True when every channel, pattern and shard channel `c` holds is allowed by its current permissions. */
function subscriptionsAllowed(c: RespConnection): boolean {
  const p = c.perms;
  if (p === null) return true;
  for (const name of c.channels.keys()) if (!p.canSubscribe(name, null)) return false;
  for (const name of c.patterns.keys()) if (!p.canSubscribe(name, null)) return false;
  for (const name of c.shardChannels) if (!p.canSubscribe(name, null)) return false;
  return true;
}

/** Why a logged-in client must go after the change from `old` to `next`, or null when it stays (its permissions updated). */
function recheck(door: RespDoor, c: RespConnection, old: AuthSettings, next: AuthSettings): string | null {
  if (!c.authed) return null;
  if (c.user === DEFAULT_USER && door.requirepass !== '') return null;
  const now = basisOf(next, c.user);
  if (now === undefined) return 'user no longer configured';
  if (now.account !== undefined && now.account !== '$G') return 'user moved to an account';
  const before = basisOf(old, c.user);
  if (before === undefined || before.secret !== now.secret) return 'password changed';
  if (JSON.stringify(before.permissions) === JSON.stringify(now.permissions)) return null;
  c.loggedIn(c.user, now.permissions);
  return subscriptionsAllowed(c) ? null : 'a subscription is no longer allowed';
}

/**
 * Applies `next` to the Redis door: new logins see it at once; logged-in clients are re-checked
 * as the file comment says. Returns how many clients were closed.
 */
export function reloadRedisAuth(door: RespDoor, next: AuthSettings, usersByCertificate: boolean): number {
  const old = door.auth;
  door.auth = next;
  door.usersByCertificate = usersByCertificate;
  if (!authRequired(old) && authRequired(next) && door.requirepass !== '') {
    // A requirepass set while herald had no users (CONFIG SET, which anyone could run then) would
    // stay a way in as the unrestricted `default` user after the config locks the server down:
    // herald's users now own logins, and clients logged in with it are closed (review 2, R2-2).
    door.config.set('requirepass', '');
    door.log.warn({}, 'requirepass cleared: the reloaded config has herald users or a token, which now own Redis logins');
  }
  let closed = 0;
  for (const c of [...door.connections.values()]) {
    const why = recheck(door, c, old, next);
    if (why === null) continue;
    door.log.info({ id: c.id, addr: c.addr, user: c.user, why }, 'Redis client closed after config reload');
    c.close();
    closed++;
  }
  return closed;
}
