// Config reload (SIGHUP) against the real nats-server: the same conf on both, edited the same way,
// then SIGHUP to both; what raw clients observe afterwards is compared byte for byte (after INFO).
// nats-server reload.go reloadAuthorization: a client whose user was removed is closed silently;
// one whose credentials no longer pass gets 'Authorization Violation' and is closed; a subscription no longer allowed is removed with an
// -ERR naming it and its sid; publish permissions apply to the next PUB; new users log in at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RawConnection, splitGreeting } from '../helpers/raw.js';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { heraldSide, natsSide, type Side } from './reload-sides.js';
import { startHeraldChild } from '../helpers/herald-child.js';
import { bcryptHash } from './helpers.js';

/** Bound on every wait for a server's reaction. */
const WAIT_MS = 30_000;

const before = (): string => `authorization {
  users = [
    { user: alice, password: apw, permissions: { publish: ["foo", "bar"], subscribe: ["foo", "bar", "q.>"] } }
    { user: bob, password: bpw }
    { user: carl, password: "${bcryptHash('cpw')}" }
  ]
}`;
const after = (): string => `authorization {
  users = [
    { user: alice, password: apw, permissions: { publish: ["foo"], subscribe: ["foo"] } }
    { user: carl, password: "${bcryptHash('cpw2')}" }
    { user: dave, password: dpw }
  ]
}`;

/** Connects, sends CONNECT for `user` plus `ops`, waits for the PONG that ends them. */
async function session(port: number, user: string, pass: string, ops = ''): Promise<RawConnection> {
  const c = await RawConnection.connect(port);
  c.write(`CONNECT {"verbose":false,"pedantic":false,"protocol":1,"user":"${user}","pass":"${pass}"}\r\n${ops}PING\r\n`);
  assert.ok(await c.waitFor((d) => d.includes('PONG\r\n'), WAIT_MS), `${user} logged in within ${WAIT_MS} ms`);
  return c;
}

function after1(c: RawConnection): string {
  return splitGreeting(c.data).rest.toString();
}

/** Runs the scenario on one server; returns what each client saw. */
async function scenario(side: Side): Promise<Record<string, string>> {
  const alice = await session(side.port, 'alice', 'apw', 'SUB foo 1\r\nSUB bar 2\r\nSUB q.a workers 3\r\n');
  const bob = await session(side.port, 'bob', 'bpw');
  const carl = await session(side.port, 'carl', 'cpw');
  side.rewrite(after());
  side.hup();
  // The removed subscriptions' -ERRs tell that the reload was applied.
  assert.ok(await alice.waitFor((d) => d.includes('(sid "3")'), WAIT_MS), `alice told about removed subscriptions within ${WAIT_MS} ms: ${after1(alice)}`);
  assert.ok(await bob.waitFor(() => false, WAIT_MS) === false && bob.closed, 'bob closed after reload');
  assert.ok(await carl.waitFor(() => false, WAIT_MS) === false && carl.closed, 'carl closed after his password changed');
  alice.write('PUB bar 2\r\nhi\r\nPUB foo 2\r\nhi\r\nPING\r\n');
  assert.ok(await alice.waitFor((d) => (after1(alice).match(/PONG/g) ?? []).length === 2, WAIT_MS), 'alice PONG after reload');
  const seen: Record<string, string> = {
    alice: after1(alice)
      // The order of the removal -ERRs follows each server's map iteration: compare them as a set.
      .replace(/(-ERR 'Permissions Violation for Subscription[^\n]*\n)+/, (m) => m.split(/(?<=\n)/).sort().join('')),
    bob: after1(bob),
    carl: after1(carl),
  };
  for (const [who, pass] of [
    ['bob', 'bpw'],
    ['carl', 'cpw'],
    ['carl', 'cpw2'],
    ['dave', 'dpw'],
  ] as const) {
    const c = await RawConnection.connect(side.port);
    c.write(`CONNECT {"verbose":false,"pedantic":false,"user":"${who}","pass":"${pass}"}\r\nPING\r\n`);
    await c.waitFor((d) => d.includes('PONG') || d.includes('-ERR'), WAIT_MS);
    await c.waitQuiet(50, 1000);
    seen[`new ${who}/${pass}`] = after1(c);
    c.destroy();
  }
  for (const c of [alice, bob, carl]) c.destroy();
  return seen;
}

test('SIGHUP: removed users and changed passwords are closed, lost subscriptions removed, new users admitted (differential)', { skip: natsServerAvailable() ? false : 'nats-server is not installed' }, async () => {
  const h = await heraldSide(before());
  const n = await natsSide(before());
  try {
    const [hs, ns] = [await scenario(h), await scenario(n)];
    assert.deepEqual(hs, ns);
    assert.match(hs.alice!, /Permissions Violation for Subscription to "bar" \(sid "2"\)/);
    // A removed user is closed without a word; a changed password gets the violation.
    assert.equal(hs.bob, 'PONG\r\n');
    assert.equal(hs.carl, "PONG\r\n-ERR 'Authorization Violation'\r\n");
    assert.match(hs['new dave/dpw']!, /PONG/);
  } finally {
    await h.stop();
    await n.stop();
  }
});

test('a bad config or a change that needs a restart is refused on reload; the running config stays; herald reload --pid sends SIGHUP', async () => {
  const h = await startHeraldChild(before());
  try {
    writeFileSync(h.conf, `authorization { users = [ { user: alice password: } ]\n`);
    process.kill(h.pid, 'SIGHUP');
    await h.waitLog(/Failed to reload server configuration: .*running configuration is kept/, WAIT_MS, 'the refused bad config');
    const bob = await session(h.port, 'bob', 'bpw');
    bob.destroy();

    writeFileSync(h.conf, `${after()}\nport: ${h.port + 1}\nports_file_dir: ${JSON.stringify(h.dir)}\n`);
    const herald = resolve(import.meta.dirname, '../../../bin/herald.js');
    const sender = spawn(process.execPath, [herald, 'reload', '--pid', String(h.pid)], { stdio: 'ignore' });
    assert.equal(await new Promise((r) => sender.once('exit', r)), 0, 'herald reload --pid exits 0');
    await h.waitLog(/config reload not supported for port: old=\d+, new=\d+/, WAIT_MS, 'the refused port change');
    const stillBob = await session(h.port, 'bob', 'bpw');
    stillBob.destroy();

    // nats-server's spelling of the same command, through the drop-in.
    writeFileSync(h.conf, `${after()}\nport: -1\nhost: 127.0.0.1\nports_file_dir: ${JSON.stringify(h.dir)}\n`);
    const shim = resolve(import.meta.dirname, '../../../bin/shim/nats-server');
    const sl = spawn(process.execPath, [shim, '--signal', `reload=${h.pid}`], { stdio: 'ignore' });
    assert.equal(await new Promise((r) => sl.once('exit', r)), 0, 'nats-server --signal reload=<pid> exits 0');
    await h.waitLog(/Reloaded server configuration/, WAIT_MS, 'the applied reload');
    const dave = await session(h.port, 'dave', 'dpw');
    dave.destroy();
  } finally {
    await h.stop();
  }
});
