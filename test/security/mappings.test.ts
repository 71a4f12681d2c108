// Subject mappings with real clients, the same conf on herald and on nats-server 2.9.10: what
// each subscriber receives for each publish (literal, $n, wildcard(), >, partition, split,
// weighted, dropped), per account, through request-reply; and bad mappings refused at start with
// nats-server's text.
import { test, describe, before } from 'node:test';
import { rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as v2 from 'nats';
import * as v3 from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { within } from '../helpers/bounded.js';
import { natsServerAvailable, natsServerBin } from '../helpers/nats-server.js';
import { runOn, startHerald, startReferenceNats, writeConf, type Target } from './helpers.js';
import { loadConfigFile } from '../../src/config/load.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { ConfigError } from '../../src/config/errors.js';
import { Server } from '../../src/index.js';
import { NO_ACCOUNTS } from '../../src/core/accounts.js';
import { Redis } from 'ioredis';

const CONF = `
mappings {
  "lit": "lit.mapped"
  "ord.*.*": "new.$2.{{wildcard(1)}}"
  "tail.>": "t2.>"
  "part.*.*": "p.{{partition(4,1,2)}}.$1.$2"
  "cut.*": "c.{{splitFromLeft(1,2)}}"
  "dash.*": "d.{{split(1,-)}}"
  "half": [ { destination: "half.a", weight: 50% }, { destination: "half.b", weight: 50 } ]
  "drop.me": [ { destination: "drop.me", weight: 0 } ]
  "svc": "svc.v2"
}
# Top-level mappings belong to the global account (user nobody); account A has its own.
authorization { users: [ { user: nobody, password: nobody } ] }
accounts {
  A: { users: [ { user: a, password: a } ], mappings: { "lit": "lit.in.a" } }
}
`;
const WAIT = 5000;
const sc = v2.StringCodec();

/** Publishes `sends` on `pub` and reports, per subscription of `sub`, the subjects received. */
async function observe(sub: v2.NatsConnection, pub: v2.NatsConnection, sends: string[], count = 1): Promise<string[]> {
  const seen: string[] = [];
  const s = sub.subscribe('>', { callback: (_e, m) => seen.push(m.subject) });
  await sub.flush();
  for (const subject of sends) for (let i = 0; i < count; i++) pub.publish(subject, sc.encode(subject));
  await pub.flush();
  // A marker published last, unmapped: once it arrives, everything before it has.
  pub.publish('zz.marker');
  await pub.flush();
  await within(
    (async () => {
      while (!seen.includes('zz.marker')) await new Promise((r) => setTimeout(r, 10));
    })(),
    WAIT,
    'marker',
  );
  s.unsubscribe();
  return seen.filter((x) => x !== 'zz.marker');
}

const SENDS = [
  'lit',
  'ord.x.y',
  'tail.a.b.c',
  'cut.abcdef',
  'dash.-a--b-',
  'drop.me',
  'other',
  ...Array.from({ length: 12 }, (_, i) => `part.k${i}.v`),
];

interface Seen {
  global: string[];
  accountA: string[];
  half: Record<string, number>;
  reply: string;
}

async function scenario(t: Target): Promise<Seen> {
  const conn = (user: string): Promise<v2.NatsConnection> =>
    within(v2.connect({ port: t.port, user, pass: user, reconnect: false }), WAIT, `connect ${user}`);
  const g1 = await conn('nobody');
  const g2 = await conn('nobody');
  const a1 = await conn('a');
  const a2 = await conn('a');
  try {
    const global = await observe(g1, g2, SENDS);
    const accountA = await observe(a1, a2, ['lit', 'ord.x.y']);
    const halves = await observe(g1, g2, ['half'], 200);
    const half: Record<string, number> = {};
    for (const h of halves) half[h] = (half[h] ?? 0) + 1;
    g1.subscribe('svc.v2', { callback: (_e, m) => m.respond(sc.encode(`served ${m.subject}`)) });
    await g1.flush();
    const r = await g2.request('svc', sc.encode('q'), { timeout: WAIT });
    return { global, accountA, half, reply: sc.decode(r.data) };
  } finally {
    for (const c of [g1, g2, a1, a2]) await c.close();
  }
}

const results: Partial<Record<Target['name'], Seen>> = {};

describe('subject mappings', () => {
  before(async () => {
    results.herald = await runOn(startHerald(CONF), scenario);
  });

  test('herald maps publishes before matching, per account', () => {
    const r = results.herald!;
    const global = r.global.filter((s) => !s.startsWith('p.'));
    assert.deepEqual(global, ['lit.mapped', 'new.y.x', 't2.a.b.c', 'c.ab.cdef', 'd.a.b', 'other']);
    const parts = r.global.filter((s) => s.startsWith('p.'));
    assert.equal(parts.length, 12);
    for (const p of parts) assert.match(p, /^p\.[0-3]\.k\d+\.v$/);
    // Account A has its own mapping of `lit` and none of `ord.*.*`.
    assert.deepEqual(r.accountA, ['lit.in.a', 'ord.x.y']);
    assert.equal((r.half['half.a'] ?? 0) + (r.half['half.b'] ?? 0), 200);
    assert.ok((r.half['half.a'] ?? 0) > 0 && (r.half['half.b'] ?? 0) > 0, JSON.stringify(r.half));
    assert.equal(r.reply, 'served svc.v2');
  });

  test(
    'same observations as nats-server 2.9.10',
    { skip: natsServerAvailable() ? false : 'nats-server is not installed' },
    async () => {
      results['nats-server'] = await runOn(startReferenceNats(CONF), scenario);
      const ref = results['nats-server']!;
      const got = results.herald!;
      // Partition buckets included: herald hashes as nats-server does (FNV-1a).
      assert.deepEqual(got.global, ref.global);
      assert.deepEqual(got.accountA, ref.accountA);
      assert.deepEqual(Object.keys(got.half).sort(), Object.keys(ref.half).sort());
      assert.equal(got.reply, ref.reply);
    },
  );
});

/** nats-server's start-up text for a bad mapping (after its `file:line:col: `), and herald's. */
const BAD: [string, string][] = [
  [
    '"foo.*": "bar.$2"',
    'Error adding mapping for "foo.*" to "bar.$2" : invalid mapping destination: wildcard index out of range in $2: [2]',
  ],
  [
    '"foo.*": "bar.{{unknown(1)}}"',
    'Error adding mapping for "foo.*" to "bar.{{unknown(1)}}" : invalid mapping destination: unknown function in {{unknown(1)}}',
  ],
  ['"a..b": "c"', 'Subject "a..b" is not a valid subject'],
  ['"x": [ {destination: "y"} ]', 'Missing weight for mapping destination "y"'],
  ['"x": [ {destination: "y", weight: 120} ]', 'Invalid weight 120 for mapping destination'],
  ['"x": [ {destination: "y", weight: 10, bogus: 1} ]', 'Unknown field "bogus" for mapping destination'],
];

test('bad mappings are refused at start with nats-server’s text', () => {
  const bin = natsServerBin();
  const dirs: string[] = [];
  for (const [entry, text] of BAD) {
    for (const conf of [`mappings { ${entry} }`, `accounts { A: { mappings { ${entry} } } }`]) {
      const { file, dir } = writeConf(conf);
      dirs.push(dir);
      assert.throws(
        () => loadConfigFile(file, defaultOptions('herald')),
        (e: unknown) => e instanceof ConfigError && e.message.includes(text),
        `herald: ${conf}`,
      );
      if (bin !== null) {
        const out = spawnSync(bin, ['-t', '-c', file], { encoding: 'utf8' });
        assert.notEqual(out.status, 0, conf);
        assert.ok(`${out.stdout}${out.stderr}`.includes(text), `nats-server: ${out.stdout}${out.stderr}`);
      }
    }
  }
  // A weighted mapping over 100 %: nats-server 2.9.10 fails with a Go interface-conversion text;
  // herald names the mapping and the reason.
  const { file, dir } = writeConf(
    'mappings { "foo.*": [ {destination: "a.$1", weight: 60}, {destination: "b.$1", weight: 50} ] }',
  );
  dirs.push(dir);
  assert.throws(() => loadConfigFile(file, defaultOptions('herald')), /total weight needs to be <= 100/);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const JS_CONF = 'mappings { "in.*": "store.$1" }\n';

/** Publishes through JetStream to a mapped subject; returns the ack and the stored subject. */
async function jsScenario(t: Target): Promise<string> {
  const nc = await within(v3.connect({ port: t.port, reconnect: false }), WAIT, 'connect');
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'S', subjects: ['store.>'] });
    const ack = await jetstream(nc).publish('in.a', 'x');
    const m = await jsm.streams.getMessage('S', { seq: ack.seq });
    return `${ack.stream}#${ack.seq} ${m?.subject ?? 'none'}`;
  } finally {
    await nc.close();
  }
}

test('a mapped publish is stored and acked by the stream of its destination, as nats-server', async () => {
  const got = await runOn(startHerald(JS_CONF, { jetstream: true }), jsScenario);
  assert.equal(got, 'S#1 store.a');
  if (natsServerAvailable()) assert.equal(await runOn(startReferenceNats(JS_CONF, { jetstream: true }), jsScenario), got);
});

test('herald: a Redis PUBLISH is mapped like a NATS publish (one router for both doors)', async () => {
  const s = await Server.start({
    port: 0,
    redisPort: 0,
    jetstream: false,
    logLevel: 'silent',
    accounts: { ...NO_ACCOUNTS, globalMappings: [{ from: 'chan.*', to: [{ subject: 'mapped.$1', weight: 100 }] }] },
  });
  const nc = await within(v3.connect({ port: s.port, reconnect: false }), WAIT, 'connect');
  const io = new Redis({ port: s.redis!.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    const sub = nc.subscribe('mapped.*', { max: 1 });
    await nc.flush();
    assert.equal(await io.publish('chan.x', 'hi'), 1);
    const got = await within(
      (async () => {
        for await (const m of sub) return `${m.subject} ${m.string()}`;
        return 'none';
      })(),
      WAIT,
      'mapped message',
    );
    assert.equal(got, 'mapped.x hi');
  } finally {
    io.disconnect();
    await nc.close();
    await s.close();
  }
});

test('herald: a reload applies changed mappings from the next publish', async () => {
  const users = 'authorization { users: [ { user: nobody, password: nobody } ] }\n';
  const before = `${users}mappings { "r.*": "one.$1" }\naccounts { A: { users: [ { user: a, password: a } ] } }\n`;
  const after = `${users}mappings { "r.*": "two.$1" }\naccounts { A: { users: [ { user: a, password: a } ], mappings: { "x": "y" } } }\n`;
  const t = await startHerald(before);
  const { file, dir } = writeConf(after);
  let nc: v2.NatsConnection | null = null;
  try {
    nc = await within(v2.connect({ port: t.port, user: 'nobody', pass: 'nobody', reconnect: false }), WAIT, 'connect');
    assert.deepEqual(await observe(nc, nc, ['r.k']), ['one.k']);
    const s = t.herald!;
    const { options } = loadConfigFile(file, defaultOptions('herald'));
    await s.reload({ ...s.options, accounts: options.accounts });
    assert.deepEqual(await observe(nc, nc, ['r.k']), ['two.k']);
    assert.deepEqual(s.accounts.get('A')!.mappings, [{ from: 'x', to: [{ subject: 'y', weight: 100 }] }]);
  } finally {
    await nc?.close();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
