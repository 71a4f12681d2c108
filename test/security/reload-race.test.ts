// Reload edge cases on an in-process herald: a reload landing while a CONNECT waits for its
// bcrypt verdict is applied to that CONNECT (review finding F6), and per-account JetStream limits
// changed on reload apply to the running account without losing its streams (nats-server
// jetstream.go configJetStream → UpdateJetStreamLimits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v3 from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { loadConfigFile } from '../../src/config/load.js';
import { defaultOptions } from '../../src/config/defaults.js';
import type { Server } from '../../src/index.js';
import { RawConnection, splitGreeting } from '../helpers/raw.js';
import { within } from '../helpers/bounded.js';
import { bcryptHash, startHerald, writeConf } from './helpers.js';

/** Bound on every wait for the server's reaction. */
const WAIT_MS = 30_000;
/** bcrypt cost of the slow user: 2^12 rounds keep the verdict pending for tens of ms or more. */
const SLOW_COST = 12;

/** Reloads `s` with the users, permissions and accounts of `conf` (everything else unchanged). */
async function reloadWith(s: Server, conf: string): Promise<void> {
  const { file } = writeConf(conf);
  const { options } = loadConfigFile(file, defaultOptions('herald'));
  await s.reload({ ...s.options, auth: options.auth, accounts: options.accounts });
}

/** Sends CONNECT as `user` and resolves once herald holds it for its credential verdict. */
async function connectPending(s: Server, user: string, pass: string): Promise<RawConnection> {
  const c = await RawConnection.connect(s.port);
  c.write(`CONNECT {"verbose":false,"pedantic":false,"user":"${user}","pass":"${pass}"}\r\nPUB x 1\r\n1\r\nPING\r\n`);
  const end = Date.now() + WAIT_MS;
  // checkAuth holds the client's reads until the verdict: that is the window a reload must not slip through.
  while (![...s.door.connections.values()].some((k) => !k.connectReceived && k.verdictPending)) {
    assert.ok(Date.now() < end && !c.closed, `CONNECT held for its bcrypt verdict within ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
  return c;
}

/** An authorization block; its generous auth timeout keeps two cost-12 compares in bounds on a loaded machine. */
function users(...list: string[]): string {
  return `authorization {\n  timeout: 60\n  users = [\n    ${list.join('\n    ')}\n  ]\n}`;
}

test('F6: a reload removing a user while its bcrypt verdict is pending refuses that CONNECT', async () => {
  const slow = `{ user: slow, password: "${bcryptHash('spw', SLOW_COST)}" }`;
  const t = await startHerald(users(slow, '{ user: other, password: o }'));
  try {
    const s = t.herald!;
    const c = await connectPending(s, 'slow', 'spw');
    await reloadWith(s, users('{ user: other, password: o }'));
    assert.ok(await c.waitFor(() => false, WAIT_MS) === false && c.closed, 'the client is closed');
    assert.equal(splitGreeting(c.data).rest.toString(), "-ERR 'Authorization Violation'\r\n");
  } finally {
    await t.stop();
  }
});

test('F6: a reload changing permissions while the verdict is pending admits the client with the new permissions', async () => {
  const hash = bcryptHash('spw', SLOW_COST);
  const slow = (perms: string): string => `{ user: slow, password: "${hash}"${perms} }`;
  const t = await startHerald(users(slow('')));
  try {
    const s = t.herald!;
    const c = await connectPending(s, 'slow', 'spw');
    await reloadWith(s, users(slow(', permissions: { publish: ["y"] }')));
    assert.ok(await c.waitFor((d) => d.includes('PONG'), WAIT_MS), `PONG within ${WAIT_MS} ms: ${c.data.toString()}`);
    assert.equal(splitGreeting(c.data).rest.toString(), `-ERR 'Permissions Violation for Publish to "x"'\r\nPONG\r\n`);
    c.destroy();
  } finally {
    await t.stop();
  }
});

test('accounts on reload: JetStream limits change in place, streams stay; a removed account keeps its store and gets it back', async () => {
  const conf = (maxStreams: number, withB: boolean): string => `accounts {
    A: { users: [ { user: a, password: a } ], jetstream: { max_streams: ${maxStreams} } }
    ${withB ? 'B: { users: [ { user: b, password: b } ], jetstream: enabled }' : ''}
  }`;
  const t = await startHerald(conf(1, true), { jetstream: true });
  const open: v3.NatsConnection[] = [];
  const connect = async (user: string): Promise<v3.NatsConnection> => {
    const nc = await within(v3.connect({ port: t.port, user, pass: user, reconnect: false }), WAIT_MS, `connect ${user}`);
    open.push(nc);
    return nc;
  };
  try {
    const s = t.herald!;
    const ncA = await connect('a');
    const jsmA = await within(jetstreamManager(ncA), WAIT_MS, 'jsm A');
    await within(jsmA.streams.add({ name: 'S1', subjects: ['s1'] }), WAIT_MS, 'S1 in A');
    await within(ncA.request('s1', 'm'), WAIT_MS, 'publish to S1');
    await assert.rejects(jsmA.streams.add({ name: 'S2', subjects: ['s2'] }), /maximum number of streams reached/);
    const jsmB = await within(jetstreamManager(await connect('b')), WAIT_MS, 'jsm B');
    await within(jsmB.streams.add({ name: 'SB', subjects: ['sb'] }), WAIT_MS, 'SB in B');

    await reloadWith(s, conf(2, false));
    // A's client stays connected (its user is unchanged); B's is closed with its account.
    await within(jsmA.streams.add({ name: 'S2', subjects: ['s2'] }), WAIT_MS, 'S2 after max_streams went to 2');
    assert.equal((await within(jsmA.streams.info('S1'), WAIT_MS, 'S1 info')).state.messages, 1);
    await within(open[1]!.closed(), WAIT_MS, 'b closed when B was removed');
    assert.equal(s.accounts.get('B'), undefined);

    await reloadWith(s, conf(2, true));
    const jsmB2 = await within(jetstreamManager(await connect('b')), WAIT_MS, 'jsm B again');
    assert.equal((await within(jsmB2.streams.info('SB'), WAIT_MS, 'SB back')).config.name, 'SB');
  } finally {
    for (const c of open) await c.close().catch(() => undefined);
    await t.stop();
  }
});
