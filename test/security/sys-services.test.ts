// The system account's request services ($SYS.REQ.SERVER.*, $SYS.REQ.ACCOUNT.*), the STATSZ
// heartbeat and the CONNS events, with real clients. The same conf runs on herald and on the real
// nats-server 2.9.10; replies are compared by shape (field names and JSON types, recursively),
// never by value, with herald's known differences listed below with their reason.
import { test, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as v2 from 'nats';
import * as v3 from '@nats-io/transport-node';
import { within } from '../helpers/bounded.js';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { runOn, startHerald, startReferenceNats, type Target } from './helpers.js';

const CONF = `
server_name: sysreq
accounts {
  A: { users: [ { user: a, password: a } ] }
  SYS: { users: [ { user: sys, password: sys } ] }
}
system_account: SYS
`;
const WAIT = 5000;
const sc = v2.StringCodec();
type Json = Record<string, unknown>;

/** Every `path:type` of a JSON value (an array's elements merged). */
function shape(v: unknown, p = '', out = new Set<string>()): Set<string> {
  if (v === null) out.add(`${p}:null`);
  else if (Array.isArray(v)) {
    out.add(`${p}:array`);
    for (const x of v) shape(x, `${p}[]`, out);
  } else if (typeof v === 'object') {
    out.add(`${p}:object`);
    for (const [k, x] of Object.entries(v as Json)) shape(x, `${p}.${k}`, out);
  } else out.add(`${p}:${typeof v}`);
  return out;
}

/**
 * Paths nats-server has and herald does not, each with its reason (prefix match). Fields herald
 * adds (its own /jsz extras) are allowed.
 */
const HERALD_LACKS: Record<string, string> = {
  '.data.imports':
    'nats-server lists its system imports ($SYS.REQ.SERVER.PING.CONNZ, $SYS.REQ.ACCOUNT.PING.CONNZ/STATZ) among an account’s imports; herald serves them but lists only configured imports',
  '.data.account_detail.imports': 'the same system imports, as seen by /accountz',
  '.data.connections:null':
    'nats-server 2.9.10 answers the system user $SYS.REQ.ACCOUNT.PING.CONNZ with an empty list; herald with its own connections',
};

function compareShape(subject: string, ref: unknown, got: unknown): void {
  const r = shape(ref);
  const g = shape(got);
  const missing = [...r].filter((x) => !g.has(x) && !Object.keys(HERALD_LACKS).some((k) => x.startsWith(k)));
  // An empty list in herald where nats-server's has elements differs only in element shape.
  const emptyInHerald = (x: string): boolean => {
    const at = x.indexOf('[]');
    if (at < 0) return false;
    const p = x.slice(0, at);
    return g.has(`${p}:array`) && ![...g].some((y) => y.startsWith(`${p}[]`));
  };
  const real = missing.filter((x) => !emptyInHerald(x));
  assert.deepEqual(real, [], `${subject}: herald lacks ${real.join(', ')}`);
}

/** The request subjects both servers answer for a system user; `ID` is replaced by the server id. */
const SERVER_KINDS = ['STATSZ', 'VARZ', 'CONNZ', 'SUBSZ', 'JSZ', 'HEALTHZ', 'ACCOUNTZ', 'ROUTEZ', 'GATEWAYZ', 'LEAFZ'];
const ACCOUNT_KINDS = ['CONNZ', 'SUBSZ', 'INFO', 'CONNS', 'STATZ', 'LEAFZ'];
const REQUESTS: [string, string][] = [
  ['$SYS.REQ.SERVER.PING', ''],
  ...SERVER_KINDS.flatMap((k): [string, string][] => [
    [`$SYS.REQ.SERVER.PING.${k}`, ''],
    [`$SYS.REQ.SERVER.ID.${k}`, ''],
  ]),
  ...ACCOUNT_KINDS.map((k): [string, string] => [`$SYS.REQ.ACCOUNT.A.${k}`, '']),
  ['$SYS.REQ.ACCOUNT.PING.STATZ', ''],
  ['$SYS.REQ.ACCOUNT.PING.CONNZ', ''],
  ['$SYS.REQ.ACCOUNT.NOPE.INFO', ''],
  ['$SYS.REQ.SERVER.PING.CONNZ', '{"subscriptions":true}'],
  ['$SYS.REQ.SERVER.PING.CONNZ', '{"subscriptions_detail":true,"auth":true}'],
  ['$SYS.REQ.SERVER.PING.SUBSZ', '{"subscriptions":true,"account":"A"}'],
  ['$SYS.REQ.SERVER.PING.ACCOUNTZ', '{"account":"A"}'],
  ['$SYS.REQ.SERVER.PING.CONNZ', 'not json'],
];

interface Run {
  replies: Map<string, Json | string>;
  events: [string, Json][];
  fromA: string;
  filtered: string;
  /** What a user of account A learns through its system imports. */
  ownConnz: string[];
  ownStatz: string[];
}

/** Runs the scenario against one server: an account-A client, a system client asking everything. */
async function scenario(t: Target): Promise<Run> {
  const sys = await within(v2.connect({ port: t.port, user: 'sys', pass: 'sys', reconnect: false }), WAIT, 'connect sys');
  const events: [string, Json][] = [];
  sys.subscribe('$SYS.ACCOUNT.>', { callback: (_e, m) => events.push([m.subject, JSON.parse(sc.decode(m.data)) as Json]) });
  sys.subscribe('$SYS.SERVER.ACCOUNT.>', {
    callback: (_e, m) => events.push([m.subject, JSON.parse(sc.decode(m.data)) as Json]),
  });
  await sys.flush();
  const a = await within(v2.connect({ port: t.port, user: 'a', pass: 'a', name: 'appA', reconnect: false }), WAIT, 'connect a');
  a.subscribe('orders.>');
  a.subscribe('work', { queue: 'q' });
  await a.flush();
  const id = String(sys.info!.server_id);
  const replies = new Map<string, Json | string>();
  const ask = async (subject: string, body: string): Promise<Json | string> => {
    try {
      const m = await sys.request(subject, sc.encode(body), { timeout: 1500 });
      return JSON.parse(sc.decode(m.data)) as Json;
    } catch (e) {
      return `error ${(e as v2.NatsError).code}`;
    }
  };
  for (const [subject, body] of REQUESTS) {
    replies.set(`${subject} ${body}`, await ask(subject.replace('.ID.', `.${id}.`), body));
  }
  // IDZ (nats-server 2.10, which herald advertises; 2.9.10 does not answer it).
  replies.set('IDZ', await ask('$SYS.REQ.SERVER.PING.IDZ', ''));
  // A request naming another server gets no reply (nats-server filterRequest).
  const filtered = await ask('$SYS.REQ.SERVER.PING.VARZ', '{"server_name":"someone-else"}');
  // Users of other accounts cannot reach the system account's services.
  let fromA: string;
  try {
    await a.request('$SYS.REQ.SERVER.PING.VARZ', sc.encode(''), { timeout: 1000 });
    fromA = 'answered';
  } catch (e) {
    fromA = String((e as v2.NatsError).code);
  }
  // ...except its own account's connections and statistics, through the system imports.
  const own = async (subject: string): Promise<Json> =>
    JSON.parse(sc.decode((await a.request(subject, sc.encode(''), { timeout: WAIT })).data)) as Json;
  const ownConnz = ((await own('$SYS.REQ.SERVER.PING.CONNZ')).data as Json).connections as Json[];
  const ownConnz2 = ((await own('$SYS.REQ.ACCOUNT.PING.CONNZ')).data as Json).connections as Json[];
  const ownStatz = ((await own('$SYS.REQ.ACCOUNT.PING.STATZ')).data as Json).account_statz as Json[];
  await a.close();
  // The disconnect's CONNS and DISCONNECT events.
  await within(
    (async () => {
      while (!events.some(([s]) => s === '$SYS.ACCOUNT.A.DISCONNECT')) await new Promise((r) => setTimeout(r, 20));
    })(),
    WAIT,
    'DISCONNECT event',
  );
  await sys.close();
  return {
    replies,
    events,
    fromA,
    filtered: typeof filtered === 'string' ? filtered : 'answered',
    ownConnz: [...ownConnz, ...ownConnz2].map((c) => String(c.name)),
    ownStatz: ownStatz.map((st) => `${String(st.acc)}:${String(st.conns)}`),
  };
}

const runs: Partial<Record<Target['name'], Run>> = {};

describe('$SYS request services', () => {
  before(async () => {
    runs.herald = await runOn(startHerald(CONF), scenario);
  });

  test('herald answers every request in nats-server’s envelope', () => {
    const r = runs.herald!.replies;
    const ping = r.get('$SYS.REQ.SERVER.PING ') as Json;
    assert.equal((ping.server as Json).name, 'sysreq');
    assert.equal(typeof (ping.statsz as Json).connections, 'number');
    for (const [subject, body] of REQUESTS) {
      const v = r.get(`${subject} ${body}`);
      assert.equal(typeof v, 'object', `${subject} ${body}: ${String(v)}`);
      assert.equal(
        typeof ((v as Json).server as Json | undefined)?.id === 'string' || (v as Json).type !== undefined,
        true,
        subject,
      );
    }
    const connz = (r.get('$SYS.REQ.SERVER.PING.CONNZ {"subscriptions":true}') as Json).data as Json;
    const appA = (connz.connections as Json[]).find((c) => c.name === 'appA')!;
    assert.deepEqual((appA.subscriptions_list as string[]).sort(), ['orders.>', 'work']);
    const accConnz = (r.get('$SYS.REQ.ACCOUNT.A.CONNZ ') as Json).data as Json;
    assert.deepEqual(
      (accConnz.connections as Json[]).map((c) => c.name),
      ['appA'],
    );
    const subsz = (r.get('$SYS.REQ.ACCOUNT.A.SUBSZ ') as Json).data as Json;
    // The account's own subscriptions and, as in nats-server, its system imports.
    assert.deepEqual((subsz.subscriptions_list as Json[]).map((s) => s.subject).sort(), [
      '$SYS.REQ.ACCOUNT.PING.CONNZ',
      '$SYS.REQ.ACCOUNT.PING.STATZ',
      '$SYS.REQ.SERVER.PING.CONNZ',
      'orders.>',
      'work',
    ]);
    const info = (r.get('$SYS.REQ.ACCOUNT.A.INFO ') as Json).data as Json;
    assert.equal(info.account_name, 'A');
    assert.equal(info.client_connections, 1);
    const conns = r.get('$SYS.REQ.ACCOUNT.A.CONNS ') as Json;
    assert.equal(conns.type, 'io.nats.server.advisory.v1.account_connections');
    assert.equal(conns.conns, 1);
    assert.deepEqual(Object.keys(r.get('IDZ') as Json), ['name', 'host', 'id']);
    const nope = r.get('$SYS.REQ.ACCOUNT.NOPE.INFO ') as Json;
    assert.deepEqual(nope.error, { code: 500, description: 'Account NOPE does not exist' });
    const bad = r.get('$SYS.REQ.SERVER.PING.CONNZ not json') as Json;
    assert.equal((bad.error as Json).code, 400);
    assert.equal(runs.herald!.filtered, `error ${v2.ErrorCode.Timeout}`);
    assert.equal(runs.herald!.fromA, v2.ErrorCode.NoResponders);
    assert.deepEqual(runs.herald!.ownConnz, ['appA', 'appA']);
    assert.deepEqual(runs.herald!.ownStatz, ['A:1']);
  });

  test('herald sends CONNS then CONNECT, and CONNS then DISCONNECT, on both CONNS subjects', () => {
    const subjects = runs.herald!.events.map(([s]) => s).filter((s) => s.includes('.A.'));
    assert.deepEqual(subjects, [
      '$SYS.SERVER.ACCOUNT.A.CONNS',
      '$SYS.ACCOUNT.A.SERVER.CONNS',
      '$SYS.ACCOUNT.A.CONNECT',
      '$SYS.SERVER.ACCOUNT.A.CONNS',
      '$SYS.ACCOUNT.A.SERVER.CONNS',
      '$SYS.ACCOUNT.A.DISCONNECT',
    ]);
    const last = runs.herald!.events.find(([s]) => s === '$SYS.ACCOUNT.A.SERVER.CONNS')![1];
    assert.equal(last.conns, 1);
    const seqs = runs.herald!.events.map(([, e]) => (e.server as Json).seq as number);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
      'one sequence for every system message',
    );
  });

  test('the STATSZ heartbeat arrives on $SYS.SERVER.<id>.STATSZ', async () => {
    const h = await startHerald(CONF);
    try {
      const nc = await within(v3.connect({ port: h.port, user: 'sys', pass: 'sys', reconnect: false }), WAIT, 'connect');
      const id = nc.info!.server_id;
      const sub = nc.subscribe(`$SYS.SERVER.${id}.STATSZ`, { max: 1 });
      // The first heartbeats come 250 ms, 500 ms, 1 s… after start; a bound of 10 s is generous.
      const got = await within(
        (async () => {
          for await (const m of sub) return m.json<Json>();
          throw new Error('subscription ended');
        })(),
        10_000,
        'STATSZ heartbeat',
      );
      assert.equal((got.server as Json).id, id);
      assert.equal(typeof (got.statsz as Json).mem, 'number');
      await nc.close();
    } finally {
      await h.stop();
    }
  });

  test('same shape as nats-server 2.9.10', { skip: natsServerAvailable() ? false : 'nats-server is not installed' }, async () => {
    runs['nats-server'] = await runOn(startReferenceNats(CONF), scenario);
    const ref = runs['nats-server']!;
    const got = runs.herald!;
    for (const [subject, body] of REQUESTS) {
      const key = `${subject} ${body}`;
      const rv = ref.replies.get(key);
      const hv = got.replies.get(key);
      assert.equal(typeof hv, typeof rv, `${key}: herald ${JSON.stringify(hv)?.slice(0, 200)}`);
      if (typeof rv === 'object') compareShape(key, rv, hv);
    }
    assert.equal(got.filtered, ref.filtered);
    assert.equal(got.fromA, ref.fromA);
    assert.deepEqual(got.ownConnz, ref.ownConnz);
    assert.deepEqual(got.ownStatz, ref.ownStatz);
    // Account A's events: the same subjects in the same order (nats-server also counts every
    // client in $G before authentication; herald counts clients in their own account only).
    const mine = (r: Run): string[] => r.events.map(([s]) => s).filter((s) => s.includes('.A.'));
    assert.deepEqual(mine(got), mine(ref));
    const conns = (r: Run): Json => r.events.find(([s]) => s === '$SYS.ACCOUNT.A.SERVER.CONNS')![1];
    compareShape('CONNS event', conns(ref), conns(got));
  });
});
