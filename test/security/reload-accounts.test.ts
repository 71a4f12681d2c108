// Config reload with accounts changed, against the real nats-server 2.9.10: the same conf on both,
// edited the same way, SIGHUP to both, and what raw clients observe is compared. nats-server
// reload.go reloadAuthorization: accounts are rebuilt (surviving ones keep their subscriptions
// and JetStream), clients whose user is gone or moved to another account are closed silently
// (clientHasMovedToDifferentAccount), imports are rewired (a new stream import delivers to
// existing subscribers, a removed service import stops answering), and enableJetStreamAccounts
// turns JetStream on or off per account; a disabled account's streams come back when it returns.
// A change of system_account is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { RawConnection, splitGreeting } from '../helpers/raw.js';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { heraldSide, natsSide, type Side } from './reload-sides.js';
import { startHeraldChild } from '../helpers/herald-child.js';

/** Bound on every wait for a server's reaction. */
const WAIT_MS = 30_000;

const before = `accounts {
  A: {
    users: [ { user: a, password: a }, { user: m, password: m } ]
    exports: [ { stream: "a.>" }, { service: "svc" } ]
    jetstream: enabled
  }
  B: {
    users: [ { user: b, password: b }, { user: p, password: p } ]
    imports: [ { service: { account: A, subject: "svc" } } ]
  }
  C: { users: [ { user: c, password: c } ] }
}`;
const after = `accounts {
  A: {
    users: [ { user: a, password: a } ]
    exports: [ { stream: "a.>" } ]
  }
  B: {
    users: [ { user: b, password: b }, { user: m, password: m }, { user: d, password: d }, { user: p, password: p2 } ]
    imports: [ { stream: { account: A, subject: "a.>" } } ]
    jetstream: enabled
  }
}`;

/** Connects as `user` (password = name), sends `ops`, waits for the PONG that ends them. */
async function session(port: number, user: string, ops = '', headers = true): Promise<RawConnection> {
  const c = await RawConnection.connect(port);
  c.write(
    `CONNECT {"verbose":false,"pedantic":false,"protocol":1,"headers":${headers},"no_responders":${headers},"user":"${user}","pass":"${user}"}\r\n${ops}PING\r\n`,
  );
  assert.ok(await c.waitFor((d) => d.includes('PONG\r\n'), WAIT_MS), `${user} logged in within ${WAIT_MS} ms`);
  return c;
}

/** Sends `ops` + PING and waits for that PING's PONG (the `n`-th PONG on this connection). */
async function roundTrip(c: RawConnection, ops: string, what: string): Promise<void> {
  const n = pongs(c) + 1;
  c.write(`${ops}PING\r\n`);
  assert.ok(await c.waitFor(() => pongs(c) >= n, WAIT_MS), `${what}: PONG within ${WAIT_MS} ms`);
}

function pongs(c: RawConnection): number {
  return (c.data.toString('latin1').match(/PONG\r\n/g) ?? []).length;
}

/** What the server sent after INFO, without its own PINGs (nats-server may send an early RTT
 * PING to a new client depending on timing: transport noise, not part of what is compared). */
function rest(c: RawConnection): string {
  return splitGreeting(c.data).rest.toString('latin1').replace(/^PING\r\n/gm, '');
}

let inbox = 0;
/** How long one attempt of a polled JetStream request waits for its answer. */
const ATTEMPT_MS = 1000;

/**
 * A JetStream API request from `c` (which must hold `SUB _INBOX.js.> 99`); resolves with the parts
 * of the answer both servers fill alike: its type, error code, stream count and message count.
 * With `until`, the request is repeated (a fresh inbox each time, bounded by WAIT_MS) until the
 * answer satisfies it: nats-server 2.9 turns JetStream on and off for accounts after it has
 * closed the clients a reload removes (reload.go reloadAuthorization ends with
 * enableJetStreamAccounts), so no client-visible event marks the end of its reload.
 */
async function jsApi(c: RawConnection, subject: string, body = '', until?: (summary: string) => boolean): Promise<string> {
  const end = Date.now() + WAIT_MS;
  for (;;) {
    const reply = `_INBOX.js.${++inbox}`;
    c.write(`PUB ${subject} ${reply} ${Buffer.byteLength(body)}\r\n${body}\r\n`);
    const head = new RegExp(`MSG ${reply.replace(/\./g, '\\.')} 99 (\\d+)\\r\\n`);
    const got = await c.waitFor((d) => head.test(d.toString('latin1')), until === undefined ? WAIT_MS : ATTEMPT_MS);
    if (got) {
      const text = c.data.toString('utf8');
      const m = head.exec(text)!;
      const json = JSON.parse(text.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1]))) as {
        type?: string;
        error?: { err_code?: number };
        streams?: number;
        state?: { messages?: number };
      };
      const summary = JSON.stringify({ type: json.type, err: json.error?.err_code ?? null, streams: json.streams, messages: json.state?.messages });
      if (until === undefined || until(summary)) return summary;
    }
    assert.ok(until !== undefined && Date.now() < end, `answer to ${subject} within ${WAIT_MS} ms: ${rest(c)}`);
  }
}

const enabled = (s: string): boolean => !s.includes('10039');
const disabled = (s: string): boolean => s.includes('10039');
/** JetStream on and the stream recovered: nats-server enables the account first and restores its
 * streams after, so 10059 (stream not found) shows for a moment there (seen once in CI). */
const recovered = (s: string): boolean => enabled(s) && !s.includes('10059');

/** a answers the service request it just received (its reply subject is a fresh `_R_.` inbox). */
async function answerService(a: RawConnection, nth: number): Promise<void> {
  const re = /MSG svc 2 (_R_\.\S+) 1\r\n/g;
  assert.ok(
    await a.waitFor((d) => (d.toString('latin1').match(re) ?? []).length >= nth, WAIT_MS),
    `a got service request ${nth} within ${WAIT_MS} ms: ${rest(a)}`,
  );
  const reply = [...rest(a).matchAll(re)][nth - 1]![1]!;
  a.write(`PUB ${reply} 2\r\nok\r\n`);
}

/** Runs the scenario on one server; returns what each client saw. */
async function scenario(side: Side): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  // a without headers: nats-server 2.9 adds a Nats-Request-Info header to requests crossing a
  // service import, which herald does not (yet) add.
  const a = await session(side.port, 'a', 'SUB svc 2\r\nSUB _INBOX.js.> 99\r\n', false);
  const b = await session(side.port, 'b', 'SUB a.> 1\r\nSUB _INBOX.b.> 3\r\nSUB _INBOX.js.> 99\r\n');
  const c = await session(side.port, 'c');
  const m = await session(side.port, 'm');
  const p = await session(side.port, 'p');
  seen['a: create S'] = await jsApi(a, '$JS.API.STREAM.CREATE.S', '{"name":"S","subjects":["a.s"]}');
  await roundTrip(a, 'PUB a.s 2\r\nhi\r\nPUB a.1 2\r\nhi\r\n', 'a publishes before the reload');
  await roundTrip(b, 'PUB svc _INBOX.b.1 1\r\nq\r\n', 'b requests svc through its import');
  await answerService(a, 1);
  assert.ok(await b.waitFor((d) => d.includes('MSG _INBOX.b.1'), WAIT_MS), `b got the service answer within ${WAIT_MS} ms`);
  seen['b: js info before'] = await jsApi(b, '$JS.API.INFO');

  side.rewrite(after);
  side.hup();
  // C is gone and m moved to B: both are closed without a word once the reload is applied.
  // p's password changed inside B: it gets the violation.
  for (const [who, conn] of [['c', c], ['m', m], ['p', p]] as const) {
    assert.ok((await conn.waitFor(() => false, WAIT_MS)) === false && conn.closed, `${who} closed after the reload`);
    seen[who] = rest(conn);
  }
  seen['a: stream info, JetStream off'] = await jsApi(a, '$JS.API.STREAM.INFO.S', '', disabled);
  seen['b: js info, JetStream on'] = await jsApi(b, '$JS.API.INFO', '', enabled);
  await roundTrip(a, 'PUB a.2 2\r\nhi\r\n', 'a publishes after the reload');
  assert.ok(await b.waitFor((d) => d.includes('MSG a.2'), WAIT_MS), `the new stream import delivered a.2 to b within ${WAIT_MS} ms`);
  await roundTrip(b, 'PUB svc _INBOX.b.2 1\r\nq\r\n', 'b requests svc after its import was removed');
  seen['b: create T'] = await jsApi(b, '$JS.API.STREAM.CREATE.T', '{"name":"T","subjects":["t"]}');
  for (const who of ['c', 'd', 'm']) {
    const n = await RawConnection.connect(side.port);
    n.write(`CONNECT {"verbose":false,"pedantic":false,"user":"${who}","pass":"${who}"}\r\nPING\r\n`);
    await n.waitFor((d) => d.includes('PONG') || d.includes('-ERR'), WAIT_MS);
    seen[`new ${who}`] = rest(n);
    n.destroy();
  }

  // Back to the first file: d is gone again, and its closing tells that the reload was applied.
  const d = await session(side.port, 'd');
  side.rewrite(before);
  side.hup();
  assert.ok((await d.waitFor(() => false, WAIT_MS)) === false && d.closed, 'd closed after the second reload');
  const a2 = await session(side.port, 'a', 'SUB _INBOX.js.> 99\r\n');
  seen['a: stream S back'] = await jsApi(a2, '$JS.API.STREAM.INFO.S', '', recovered);
  // B's stream import is gone again: a.3 stays in A.
  await roundTrip(a2, 'PUB a.3 2\r\nhi\r\n', 'a publishes after the import was removed');
  await roundTrip(b, '', 'b after a.3');
  seen['b: js info, JetStream off again'] = await jsApi(b, '$JS.API.INFO', '', disabled);
  seen.a = rest(a).replace(/_R_\.\S+/g, '_R_.X').replace(/MSG _INBOX\.js[^\n]*\n[^\n]*\n/g, '');
  seen.b = rest(b).replace(/MSG _INBOX\.js[^\n]*\n[^\n]*\n/g, '');
  for (const x of [a, b, a2]) x.destroy();
  return seen;
}

test('SIGHUP with accounts changed: removed and moved users closed, imports rewired, JetStream per account on and off (differential)', { skip: natsServerAvailable() ? false : 'nats-server is not installed' }, async () => {
  const h = await heraldSide(before, { jetstream: true });
  const n = await natsSide(before, { jetstream: true });
  try {
    const [hs, ns] = [await scenario(h), await scenario(n)];
    assert.deepEqual(hs, ns);
    assert.equal(hs.c, 'PONG\r\n', 'a client of a removed account is closed without an -ERR');
    assert.equal(hs.m, 'PONG\r\n', 'a client whose user moved account is closed without an -ERR');
    assert.match(hs.b!, /MSG a\.2 1 2\r\nhi/);
    assert.doesNotMatch(hs.b!, /MSG a\.1 /, 'no delivery before the import existed');
    assert.match(hs.b!, /HMSG _INBOX\.b\.2 3 \d+ \d+\r\nNATS\/1\.0 503/, 'the removed service import no longer answers');
    assert.match(hs['a: stream info, JetStream off']!, /10039/);
    assert.match(hs['a: stream S back']!, /"messages":1/);
    assert.match(hs['new c']!, /Authorization Violation/);
    assert.equal(hs.p, "PONG\r\n-ERR 'Authorization Violation'\r\n", 'a changed password inside an account');
    assert.doesNotMatch(hs.b!, /MSG a\.3 /, 'a removed stream import stops delivering');
  } finally {
    await h.stop();
    await n.stop();
  }
});

test('a change of system_account is refused on reload with nats-server\'s text; the running accounts stay', async () => {
  const h = await startHeraldChild(before);
  try {
    // A first session: the child installs its signal handlers once it has started serving.
    (await session(h.port, 'a')).destroy();
    writeFileSync(h.conf, `${before}\nsystem_account: C\nport: -1\nhost: 127.0.0.1\nports_file_dir: ${JSON.stringify(h.dir)}\n`);
    process.kill(h.pid, 'SIGHUP');
    await h.waitLog(/Failed to reload server configuration: config reload not supported for SystemAccount: old=, new=C/, WAIT_MS, 'the refused system_account change');
    const c = await session(h.port, 'c');
    c.destroy();
  } finally {
    await h.stop();
  }
});
