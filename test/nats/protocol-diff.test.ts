/**
 * Differential raw-protocol tests of the NATS door (specs/nats.md §1–§2, DESIGN.md "Compatibility
 * is tested, not assumed"). Every case in the table is a script of bytes, sent as one or several
 * TCP chunks, with the bytes the client must observe after INFO and whether the server closes.
 * Each case runs against herald and the real nats-server; the test checks the table against
 * nats-server (so the table documents the reference) and herald against nats-server (so any
 * difference is herald's bug). INFO itself differs in ids and version, so only its shape and key
 * set are compared.
 *
 * Cases run on LANES independent pairs of servers at once (no shared subjects between lanes), each
 * lane sequentially; every server is stopped in `after`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Server } from '../../src/index.js';
import { natsServerAvailable, startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { RawConnection, rawSession, splitGreeting, type RawResult } from '../helpers/raw.js';
import { cases, PING, PONG, type Case } from './protocol-table.js';

/** Independent server pairs the table is spread over. */
const LANES = 6;
/** After the expected bytes (or close) arrived, a session ends after this long without traffic. */
const QUIET_MS = 100;
/** The longest a session waits for what the table expects (only a failing case waits this long). */
const SETTLE_MS = 4000;
/** INFO keys that may differ between herald and nats-server, and why. */
const INFO_KEYS_ALLOWED_TO_DIFFER = new Set([
  'jetstream', // present only when JetStream is enabled, on either server
  'git_commit', // a build detail of nats-server binaries; Debian's build omits it, clients ignore it
  'connect_urls', // cluster-only
  'ldm', // lame-duck mode only
]);

// ---- running ----

interface Observed {
  main: RawResult;
  observer: RawResult | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Bytes received after the greeting line. */
const restLength = (d: Buffer): number => {
  const nl = d.indexOf(0x0a);
  return nl < 0 ? 0 : d.length - nl - 1;
};

/**
 * Runs one case against one server. Waits are driven by the table: a session first waits (bounded)
 * until as many bytes as the table expects have arrived, or for the close the table expects, and
 * only then for QUIET_MS of silence to catch anything extra; so a slow, loaded machine makes a
 * case slower, not flaky.
 */
async function runCase(port: number, c: Case): Promise<Observed> {
  let obs: RawConnection | null = null;
  try {
    if (c.observer !== undefined) {
      obs = await RawConnection.connect(port);
      await obs.waitFor((d) => d.includes(0x0a), SETTLE_MS);
      for (const ch of c.observer.send) {
        obs.write(ch);
        await sleep(5);
      }
      // Every observer script ends with PING: its PONG means its subscriptions are in place.
      await obs.waitFor((d) => d.includes('PONG\r\n'), SETTLE_MS);
    }
    const expectLen = Buffer.byteLength(c.expect, 'latin1');
    const main = await rawSession(port, c.send, {
      pauseMs: c.pauseMs ?? 5,
      quietMs: QUIET_MS,
      maxMs: SETTLE_MS,
      // A known difference would only wait out SETTLE_MS on herald: use the quiet period alone.
      settle: c.known !== undefined ? undefined : c.closed ? () => false : (d) => restLength(d) >= expectLen,
    });
    let observer: RawResult | null = null;
    if (obs !== null) {
      const obsLen = Buffer.byteLength(c.observer!.expect, 'latin1');
      await obs.waitFor((d) => restLength(d) >= obsLen, SETTLE_MS);
      await obs.waitQuiet(QUIET_MS, SETTLE_MS);
      observer = { data: obs.data, closed: obs.closed };
    }
    return { main, observer };
  } finally {
    obs?.destroy();
  }
}

/** Splits protocol bytes into frames: a line, or a MSG/HMSG line with its payload and CRLF. */
function frames(b: Buffer): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < b.length) {
    const nl = b.indexOf(0x0a, i);
    if (nl < 0) {
      out.push(b.subarray(i).toString('latin1'));
      break;
    }
    const line = b.subarray(i, nl + 1).toString('latin1');
    let end = nl + 1;
    if (line.startsWith('MSG ') || line.startsWith('HMSG ')) {
      const f = line.trimEnd().split(' ');
      const size = Number(f[f.length - 1]);
      if (Number.isInteger(size)) end = Math.min(b.length, nl + 1 + size + 2);
    }
    out.push(b.subarray(i, end).toString('latin1'));
    i = end;
  }
  return out;
}

/** The bytes with each run of consecutive MSG/HMSG frames sorted. */
function sortFanout(s: string): string {
  const fs = frames(Buffer.from(s, 'latin1'));
  const out: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    out.push(...run.sort());
    run = [];
  };
  for (const f of fs) {
    if (f.startsWith('MSG ') || f.startsWith('HMSG ')) run.push(f);
    else {
      flush();
      out.push(f);
    }
  }
  flush();
  return out.join('');
}

/** What a client saw after INFO, as compared: latin1 text (fan-out runs sorted if unordered). */
function afterGreeting(r: RawResult, unordered: boolean): string {
  const s = splitGreeting(r.data).rest.toString('latin1');
  return unordered ? sortFanout(s) : s;
}

/** Checks the greeting's shape and returns its JSON. */
function greetingJson(r: RawResult, who: string): Record<string, unknown> {
  const { greeting } = splitGreeting(r.data);
  assert.ok(greeting !== null, `${who}: no INFO line`);
  assert.ok(greeting.startsWith('INFO {'), `${who}: greeting starts ${JSON.stringify(greeting.slice(0, 10))}`);
  assert.ok(greeting.endsWith('} \r\n'), `${who}: greeting ends ${JSON.stringify(greeting.slice(-6))}`);
  return JSON.parse(greeting.slice(5, -3)) as Record<string, unknown>;
}

/** Readable form of received bytes; long ones are abbreviated but keep a digest of the whole. */
const show = (s: string): string =>
  s.length > 300
    ? `${JSON.stringify(s.slice(0, 150))}…(${s.length} bytes, sha1 ${createHash('sha1').update(s, 'latin1').digest('hex')})…${JSON.stringify(s.slice(-100))}`
    : JSON.stringify(s);

/** Asserts nats-server matched the table, and herald matched nats-server. */
function compare(c: Case, nats: Observed, herald: Observed): void {
  const unordered = c.unordered === true;
  const nGreeting = greetingJson(nats.main, 'nats-server');
  const hGreeting = greetingJson(herald.main, 'herald');
  const keys = (o: Record<string, unknown>): string[] =>
    Object.keys(o)
      .filter((k) => !INFO_KEYS_ALLOWED_TO_DIFFER.has(k))
      .sort();
  assert.deepEqual(keys(hGreeting), keys(nGreeting), 'INFO keys differ');

  const expect = unordered ? sortFanout(c.expect) : c.expect;
  const nGot = afterGreeting(nats.main, unordered);
  const hGot = afterGreeting(herald.main, unordered);
  assert.equal(show(nGot), show(expect), 'the table does not match nats-server (fix the table)');
  assert.equal(
    nats.main.closed,
    c.closed,
    `nats-server ${nats.main.closed ? 'closed' : 'kept open'} the connection, the table says otherwise`,
  );
  assert.equal(show(hGot), show(nGot), 'herald differs from nats-server');
  assert.equal(
    herald.main.closed,
    nats.main.closed,
    `herald ${herald.main.closed ? 'closed' : 'kept open'} the connection, nats-server did not`,
  );
  if (c.observer !== undefined) {
    const nObs = afterGreeting(nats.observer!, unordered);
    const hObs = afterGreeting(herald.observer!, unordered);
    assert.equal(show(nObs), show(c.observer.expect), 'observer: the table does not match nats-server');
    assert.equal(show(hObs), show(nObs), 'observer: herald differs from nats-server');
  }
}

{
  const names = new Set<string>();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`);
    names.add(c.name);
  }
}

const skip = natsServerAvailable() ? false : 'nats-server binary not found (set NATS_SERVER_BIN)';

describe(`NATS protocol, herald vs nats-server (${cases.length} differential cases)`, { skip }, () => {
  const natsServers: NatsServerHandle[] = [];
  const heralds: Server[] = [];
  const results = new Map<string, { nats: Observed; herald: Observed } | Error>();

  before(async () => {
    for (let i = 0; i < LANES; i++) {
      natsServers.push(await startNatsServer());
      heralds.push(await Server.start({ port: 0, jetstream: false, logLevel: 'silent' }));
    }
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        for (let k = lane; k < cases.length; k += LANES) {
          const c = cases[k];
          try {
            const [nats, herald] = await Promise.all([runCase(natsServers[lane].port, c), runCase(heralds[lane].port, c)]);
            results.set(c.name, { nats, herald });
          } catch (e) {
            results.set(c.name, e instanceof Error ? e : new Error(String(e)));
          }
        }
      }),
    );
  });

  after(async () => {
    await Promise.all([...natsServers.map((s) => s.stop()), ...heralds.map((h) => h.close())]);
  });

  // Not in the table: it needs a pause longer than herald's 2 s CONNECT deadline.
  test(
    'no CONNECT for 2.6 s, no auth configured: still served',
    {
      todo: 'src/nats/server.ts enforces the CONNECT deadline (Authentication Timeout) even without auth; nats-server arms it only when auth is required',
    },
    async () => {
      const script = [PING, PING];
      const opts = { pauseMs: 2600, quietMs: QUIET_MS };
      const [nats, herald] = await Promise.all([
        rawSession(natsServers[0].port, script, opts),
        rawSession(heralds[0].port, script, opts),
      ]);
      assert.equal(afterGreeting(nats, false), PONG + PONG);
      assert.equal(nats.closed, false);
      assert.equal(show(afterGreeting(herald, false)), show(PONG + PONG), 'herald differs from nats-server');
      assert.equal(herald.closed, false);
    },
  );

  for (const c of cases) {
    test(c.name, { todo: c.known }, () => {
      const r = results.get(c.name);
      assert.ok(r !== undefined, 'case did not run');
      if (r instanceof Error) throw r;
      compare(c, r.nats, r.herald);
    });
  }
});
