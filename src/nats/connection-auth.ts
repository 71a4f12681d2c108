/**
 * The authentication half of a NATS connection: checking CONNECT credentials (or a mapped client
 * certificate) against the door's current settings, and re-checking a connected client after a
 * config reload. Protocol decisions follow nats-server auth.go and reload.go; the wire texts come
 * from the error catalogue. The connection (src/nats/connection.ts) owns the parser, the held
 * reads and the outbound buffer; this file decides who is in and with which permissions.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Subscription } from '../core/message.js';
import { NatsErrors, natsErrLine, type NatsProtocolError } from '../core/errors.js';
import { authenticate, type Authenticated, type Credentials, type PermissionChecker, type Permissions } from '../core/auth.js';
import { GLOBAL_ACCOUNT } from '../core/accounts.js';
import { goQuote } from './jetstream/gojson.js';
import { mapCertificateUser, mapsUsers } from './tls.js';
import type { NatsDoor } from './server.js';
import type { CloseReason } from './connection.js';

/** CONNECT fields herald reads (specs/nats.md §1 "Handshake"). Missing booleans default to true. */
export interface ConnectOptions {
  verbose?: boolean;
  pedantic?: boolean;
  echo?: boolean;
  headers?: boolean;
  no_responders?: boolean;
  protocol?: number;
  name?: string;
  lang?: string;
  version?: string;
  user?: string;
  pass?: string;
  auth_token?: string;
  account?: string;
  new_account?: boolean;
  nkey?: string;
  sig?: string;
  jwt?: string;
}

/**
 * What authentication reads and changes on a connection (NatsConnection implements it). Costs
 * nothing: the connection's own fields, seen through a narrower type.
 */
export interface AuthSession {
  readonly id: number;
  readonly ip: string;
  readonly socket: Socket;
  readonly door: NatsDoor;
  readonly nonce: string;
  /** Aborted when the connection closes: its queued bcrypt compare is dropped (src/core/bcrypt-pool.ts). */
  readonly closing: AbortController;
  readonly connectOpts: Readonly<ConnectOptions>;
  readonly subs: ReadonlyMap<string, Subscription>;
  readonly closed: boolean;
  readonly connectReceived: boolean;
  readonly account: string;
  authUser: string;
  setPermissions(p: Permissions | null): PermissionChecker | null;
  dropSubscription(sid: string, sub: Subscription): void;
  queue(b: Buffer): void;
  close(reason: CloseReason): void;
  fatal(e: NatsProtocolError, reason: CloseReason): void;
}

/** Checks CONNECT credentials (or the mapped client certificate) against the current settings. */
export function verifyConnect(c: AuthSession, o: ConnectOptions): Promise<Authenticated | null> {
  const auth = c.door.opts.auth;
  // nats-server auth.go: with verify_and_map and a users table, the client certificate names
  // the user (an nkey the client presents still goes the nkey way). A client without a
  // certificate (plaintext under allow_non_tls) is not let in by a password instead: mapped
  // users have none (checkClientTLSCertSubject fails without TLS state). Review 2, R2-5.
  const byCert =
    c.door.opts.tls?.map === true &&
    auth.users.some((u) => !u.nkey) &&
    !((o.nkey ?? '') !== '' && auth.users.some((u) => u.nkey));
  if (!byCert) return authenticate(auth, o as Credentials, c.nonce, { signal: c.closing.signal, origin: c.ip });
  return Promise.resolve(mapsUsers(c.door.opts.tls, c.socket) ? mapCertificateUser(c.socket as TLSSocket, auth.users) : null);
}

/**
 * Verifies `o` against the settings in force when the verdict arrives: a config reload that lands
 * while a verdict is pending (a bcrypt compare takes tens of ms on the worker) would otherwise
 * let a client in, or keep it, with settings that no longer exist. The door's auth generation
 * tells; a stale verdict is thrown away and the check runs again against the new settings.
 */
export async function verifyCurrent(c: AuthSession, o: ConnectOptions): Promise<Authenticated | null> {
  for (;;) {
    const generation = c.door.authGeneration;
    const who: Authenticated | null = c.door.authRequired ? await verifyConnect(c, o) : { user: '', permissions: null };
    if (generation === c.door.authGeneration || c.closed) return who;
  }
}

/**
 * After a config reload (nats-server reload.go reloadAuthorization). First, synchronously, as
 * clientHasMovedToDifferentAccount does: a client that logged in as a user (name or nkey) the
 * new settings no longer list, or list in another account, is closed without a word
 * (closeConnection(ClientClosed)); that includes every client of a removed account. The others'
 * CONNECT credentials are checked again: a client no longer authorized gets
 * -ERR 'Authorization Violation' and is closed. A client without a user name (token,
 * no_auth_user, a certificate-mapped user) that the new settings put in another account is
 * closed too: nats-server re-binds it, herald does not move a live connection between accounts.
 * Otherwise the user's new permissions apply from its next PUB/SUB, and each subscription they
 * no longer allow is removed with an -ERR naming it and its sid (client.go
 * processSubsOnConfigReload). Connections still before CONNECT are checked when their CONNECT
 * comes, against the new settings.
 */
export async function reauthorize(c: AuthSession): Promise<void> {
  if (c.closed || !c.connectReceived) return;
  const o = c.connectOpts;
  const nkey = o.nkey ?? '';
  const name = nkey !== '' ? nkey : (o.user ?? '');
  if (name !== '') {
    const user = c.door.opts.auth.users.find((u) => u.name === name && u.nkey === (nkey !== ''));
    if (user === undefined || (user.account ?? GLOBAL_ACCOUNT) !== c.account) {
      const why = user === undefined ? 'user no longer configured' : 'user moved to another account';
      c.door.log.info({ cid: c.id, user: name }, `closed after config reload: ${why}`);
      c.close('Client Closed');
      return;
    }
  }
  const who = await verifyCurrent(c, o);
  if (c.closed) return;
  if (who === null) {
    c.door.log.warn({ cid: c.id, ip: c.ip, user: c.authUser }, 'authorization violation after config reload');
    c.fatal(NatsErrors.AuthorizationViolation, 'Authentication Failure');
    return;
  }
  if ((who.account ?? GLOBAL_ACCOUNT) !== c.account || c.door.accounts?.get(c.account) === undefined) {
    c.door.log.info({ cid: c.id, user: who.user }, 'closed after config reload: its account changed');
    c.close('Client Closed');
    return;
  }
  c.authUser = who.user;
  const perms = c.setPermissions(who.permissions);
  if (perms === null) return;
  for (const [sid, sub] of [...c.subs]) {
    if (sub.closed || perms.canSubscribe(sub.subject, sub.queue)) continue;
    c.dropSubscription(sid, sub);
    c.door.log.info({ cid: c.id, user: c.authUser, subject: sub.subject, queue: sub.queue, sid }, 'subscription removed after config reload: not authorized');
    // nats-server 2.9/2.10 name only the subject and sid, for queue subscriptions too.
    const args = { subject: goQuote(sub.subject), sid: goQuote(sid) };
    c.queue(Buffer.from(natsErrLine(NatsErrors.ReloadSubscriptionRemoved, args)));
  }
}
