// The same JetStream API scenario against herald and the real nats-server (`-js`, random
// loopback port, temp store dir), comparing what a client observes: response types, error
// codes and descriptions, pub acks, stream state (including byte accounting for both storage
// types) and the echoed config. The installed nats-server may be older than the 2.10 line herald
// follows; steps where versions differ are listed below and covered by herald's own tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { natsServerAvailable, startNatsServer } from '../helpers/nats-server.js';
import { differentialPair } from './differential-pair.js';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHerald, tmpDir } from './helpers.js';

/**
 * Known version differences, deliberately left out of the scenario:
 * - strict JSON (unknown fields, Go type errors) is 2.11+; older servers accept unknown fields and
 *   say only "invalid JSON" (compared by code, herald's Go text checked by prefix);
 * - `first_seq`, `compression`, `consumer_limits`, `allow_msg_ttl`, `ts` in replies are 2.10+;
 * - rollup through `discard_new_per_subject` and "rollup value invalid" replies are newer;
 * - no-responders for DIRECT.GET / MSG.NEXT and bad-request replies to unknown API subjects are newer;
 * - a negative max_age is reported as such (older servers report the duplicate window first);
 * - purging below a seq that was itself deleted: older stores fail or leave first_seq on the gap,
 *   2.10+ (and herald) move first_seq to the next live message.
 */
const SKIP = !natsServerAvailable();
const REQUEST_TIMEOUT_MS = 3000;

/** A request, optional headers, and dotted paths to leave out of the comparison (version bugs). */
type Step = [subject: string, body?: unknown, headers?: Record<string, string>, ignore?: string[]];

function drop(o: unknown, path: string): void {
  const keys = path.split('.');
  let cur = o as Record<string, unknown> | null;
  for (let i = 0; i < keys.length - 1 && cur !== null && typeof cur === 'object'; i++)
    cur = cur[keys[i]] as Record<string, unknown>;
  if (cur !== null && typeof cur === 'object') delete cur[keys[keys.length - 1]];
}

let a: NatsConnection;
let b: NatsConnection;
differentialPair(SKIP, (ref, herald) => {
  a = ref;
  b = herald;
});

interface Observed {
  status: string | null;
  headers: Record<string, string>;
  body: unknown;
}

const TIME_KEYS = new Set(['created', 'ts', 'first_ts', 'last_ts', 'time', 'Nats-Time-Stamp']);

/** Replaces times by 'T' (after checking they are RFC 3339) so the two servers compare. */
function scrubTimes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(scrubTimes);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (TIME_KEYS.has(k) && typeof x === 'string') {
        assert.match(x, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, `${k} is RFC 3339`);
        o[k] = 'T';
      } else o[k] = scrubTimes(x);
    }
    return o;
  }
  return v;
}

async function observe(nc: NatsConnection, [subject, body, hdrs]: Step): Promise<Observed> {
  const payload =
    body === undefined ? new Uint8Array() : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  let h;
  if (hdrs !== undefined) {
    h = natsHeaders();
    for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
  }
  try {
    const m = await nc.request(subject, payload, { timeout: REQUEST_TIMEOUT_MS, headers: h });
    const hm: Record<string, string> = {};
    let status: string | null = null;
    if (m.headers !== undefined) {
      status = m.headers.code === 0 ? null : `${m.headers.code} ${m.headers.description}`;
      for (const k of m.headers.keys()) hm[k] = TIME_KEYS.has(k) ? 'T' : m.headers.get(k);
    }
    const text = new TextDecoder().decode(m.data);
    let parsed: unknown = text;
    try {
      parsed = text === '' ? '' : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status, headers: hm, body: scrubTimes(parsed) };
  } catch (e) {
    return { status: `request failed: ${(e as Error).message}`, headers: {}, body: null };
  }
}

/**
 * Compares two replies. Configs are compared on the fields the reference sends (herald sends
 * newer fields too); herald's extra top-level `ts` and `did_create` are ignored when absent
 * from the reference.
 */
function compare(step: Step, ref: Observed, got: Observed): void {
  const label = `${step[0]} ${step[1] === undefined ? '' : JSON.stringify(step[1])}`;
  assert.equal(got.status, ref.status, `${label}: status`);
  assert.deepEqual(got.headers, ref.headers, `${label}: headers`);
  const r = ref.body as Record<string, unknown> | string | null;
  const g = got.body as Record<string, unknown> | string | null;
  for (const path of step[3] ?? []) {
    drop(r, path);
    drop(g, path);
  }
  // Older servers say only "invalid JSON"; herald adds Go's decoder text as 2.11+ does.
  const re = (r as { error?: { err_code?: number; description?: string } } | null)?.error;
  const ge = (g as { error?: { err_code?: number; description?: string } } | null)?.error;
  if (re?.err_code === 10025 && re.description === 'invalid JSON' && ge?.err_code === 10025) {
    assert.match(ge.description ?? '', /^invalid JSON: /, `${label}: 10025 text`);
    ge.description = re.description;
  }
  if (r === null || typeof r !== 'object' || g === null || typeof g !== 'object') {
    assert.deepEqual(g, r, `${label}: body`);
    return;
  }
  const norm = (x: Record<string, unknown>, ref: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(x)) {
      if (!(k in ref) && (k === 'ts' || k === 'did_create')) continue;
      if (k === 'config' && typeof ref.config === 'object' && ref.config !== null) {
        const c: Record<string, unknown> = {};
        for (const ck of Object.keys(ref.config)) c[ck] = (x.config as Record<string, unknown>)[ck];
        out.config = c;
      } else if (
        k === 'streams' &&
        Array.isArray(x.streams) &&
        Array.isArray(ref.streams) &&
        typeof ref.streams[0] === 'object'
      ) {
        out.streams = (x.streams as Record<string, unknown>[]).map((s, i) =>
          norm(s, (ref.streams as Record<string, unknown>[])[i] ?? {}),
        );
      } else out[k] = x[k];
    }
    return out;
  };
  assert.deepEqual(norm(g, r), r, `${label}: body`);
}

async function run(steps: Step[]): Promise<void> {
  for (const step of steps) {
    const ref = await observe(a, step);
    const got = await observe(b, step);
    compare(step, ref, got);
  }
}

test(
  'differential: stream create/info/names/list, config echo and validation errors',
  { skip: SKIP && 'nats-server not installed' },
  async () => {
    await run([
      ['$JS.API.STREAM.NAMES'],
      ['$JS.API.STREAM.LIST'],
      [
        '$JS.API.STREAM.CREATE.D1',
        { name: 'D1', subjects: ['d1.>'], storage: 'memory', max_msgs_per_subject: 3, description: 'diff' },
      ],
      [
        '$JS.API.STREAM.CREATE.D1',
        { name: 'D1', subjects: ['d1.>'], storage: 'memory', max_msgs_per_subject: 3, description: 'diff' },
      ],
      ['$JS.API.STREAM.CREATE.D1', { name: 'D1', subjects: ['d1.x'], storage: 'memory' }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', subjects: ['d1.a'] }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D3' }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', max_age: 5 }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', num_replicas: 3 }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', deny_purge: true, allow_rollup_hdrs: true }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', subjects: ['a.*', 'a.b'] }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', subjects: ['a..b'] }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', duplicate_window: 50_000_000 }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', max_age: 1_000_000_000, duplicate_window: 2_000_000_000 }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', discard_new_per_subject: true }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', discard: 'new', discard_new_per_subject: true }],
      ['$JS.API.STREAM.CREATE.D2', { name: 'D2', sealed: true }],
      ['$JS.API.STREAM.CREATE.D2', '{bad'],
      [
        '$JS.API.STREAM.CREATE.D2',
        {
          name: 'D2',
          subjects: ['d2'],
          max_age: 1_000_000_000,
          max_bytes: 4096,
          max_msg_size: 512,
          discard: 'new',
          allow_direct: true,
          deny_delete: true,
          metadata: { team: 'x' },
        },
      ],
      ['$JS.API.STREAM.INFO.D1'],
      ['$JS.API.STREAM.INFO.D2'],
      ['$JS.API.STREAM.INFO.NOPE'],
      ['$JS.API.STREAM.NAMES'],
      ['$JS.API.STREAM.NAMES', { subject: 'd2' }],
      ['$JS.API.STREAM.NAMES', { offset: 1 }],
      ['$JS.API.STREAM.LIST'],
      ['$JS.API.STREAM.UPDATE.D1', { name: 'D1', subjects: ['d1.>'], storage: 'file' }],
      [
        '$JS.API.STREAM.UPDATE.D1',
        { name: 'D1', subjects: ['d1.>', 'more'], storage: 'memory', max_msgs_per_subject: 3, description: 'diff' },
      ],
      [
        '$JS.API.STREAM.UPDATE.D2',
        {
          name: 'D2',
          subjects: ['d2'],
          max_age: 1_000_000_000,
          max_bytes: 4096,
          max_msg_size: 512,
          discard: 'new',
          allow_direct: true,
        },
      ],
      ['$JS.API.STREAM.UPDATE.NOPE', { name: 'NOPE' }],
      ['$JS.API.STREAM.DELETE.D2', 'x'],
      ['$JS.API.STREAM.DELETE.D2'],
      ['$JS.API.STREAM.DELETE.D1'],
      ['$JS.API.STREAM.DELETE.D1'],
    ]);
  },
);

for (const storage of ['memory', 'file']) {
  test(
    `differential (${storage}): publishes, acks, limits, dedupe, expected headers and byte accounting`,
    { skip: SKIP && 'nats-server not installed' },
    async () => {
      const S = `P${storage[0].toUpperCase()}`;
      const p = S.toLowerCase();
      await run([
        [
          `$JS.API.STREAM.CREATE.${S}`,
          { name: S, subjects: [`${p}.>`], storage, max_msgs_per_subject: 3, allow_direct: true, allow_rollup_hdrs: true },
        ],
        [`${p}.a`, 'hello'],
        [`${p}.a`, 'with headers', { 'X-One': '1', 'X-Two': 'two' }],
        [`${p}.b`, ''],
        [`${p}.a`, 'dedupe me', { 'Nats-Msg-Id': 'm-1' }],
        [`${p}.a`, 'dedupe me', { 'Nats-Msg-Id': 'm-1' }],
        [`${p}.a`, 'evicts the oldest a'],
        [`${p}.c`, 'x', { 'Nats-Expected-Stream': 'OTHER' }],
        [`${p}.c`, 'x', { 'Nats-Expected-Last-Sequence': '1' }],
        [`${p}.c`, 'x', { 'Nats-Expected-Last-Sequence': '5' }],
        [`${p}.c`, 'x', { 'Nats-Expected-Last-Msg-Id': 'nope' }],
        [`${p}.c`, 'x', { 'Nats-Expected-Last-Subject-Sequence': '1' }],
        [`${p}.c`, 'x', { 'Nats-Expected-Last-Subject-Sequence': '0' }],
        [`${p}.d`, 'd1'],
        [`${p}.d`, 'd2'],
        [`${p}.d`, 'rolled', { 'Nats-Rollup': 'sub' }],
        [`$JS.API.STREAM.INFO.${S}`, { subjects_filter: '>', deleted_details: true }],
        [`$JS.API.STREAM.MSG.GET.${S}`, { seq: 2 }],
        [`$JS.API.STREAM.MSG.GET.${S}`, { seq: 1 }],
        [`$JS.API.STREAM.MSG.GET.${S}`, { last_by_subj: `${p}.a` }],
        [`$JS.API.STREAM.MSG.GET.${S}`, { next_by_subj: `${p}.b` }],
        [`$JS.API.STREAM.MSG.GET.${S}`, { seq: 999 }],
        [`$JS.API.STREAM.MSG.GET.${S}`, ''],
        [`$JS.API.DIRECT.GET.${S}`, { seq: 2 }],
        [`$JS.API.DIRECT.GET.${S}.${p}.a`],
        [`$JS.API.DIRECT.GET.${S}.${p}.none`],
        [`$JS.API.DIRECT.GET.${S}`, ''],
        [`$JS.API.STREAM.MSG.DELETE.${S}`, { seq: 3 }],
        [`$JS.API.STREAM.MSG.DELETE.${S}`, { seq: 3 }],
        [`$JS.API.STREAM.MSG.DELETE.${S}`, { seq: 5, no_erase: true }],
        [`$JS.API.STREAM.INFO.${S}`, { deleted_details: true }],
        [`$JS.API.STREAM.PURGE.${S}`, { filter: `${p}.d`, keep: 1 }],
        [`$JS.API.STREAM.PURGE.${S}`, { seq: 2, keep: 1 }],
        [`$JS.API.STREAM.PURGE.${S}`, { seq: 9 }],
        // nats-server 2.9's memory store keeps counting purged subjects in num_subjects.
        [`$JS.API.STREAM.INFO.${S}`, undefined, undefined, ['state.num_subjects']],
        [`$JS.API.STREAM.PURGE.${S}`],
        [`$JS.API.STREAM.INFO.${S}`, undefined, undefined, ['state.num_subjects']],
        [`${p}.z`, 'after purge'],
        [`$JS.API.STREAM.INFO.${S}`, undefined, undefined, ['state.num_subjects']],
        [`$JS.API.STREAM.DELETE.${S}`],
      ]);
    },
  );
}

/** The discard-new stream of the next test, updated twice with one field changed each time. */
const DN_CFG = {
  name: 'DN',
  subjects: ['dn.*'],
  storage: 'memory',
  max_msgs: 2,
  max_msg_size: 8,
  discard: 'new',
  deny_delete: true,
  deny_purge: true,
};

test(
  'differential: discard new, max_msg_size, deny_delete / deny_purge, sealed',
  { skip: SKIP && 'nats-server not installed' },
  async () => {
    await run([
      ['$JS.API.STREAM.CREATE.DN', DN_CFG],
      ['dn.a', '12345678'],
      ['dn.a', '123456789'],
      ['dn.a', '1', { H: 'v' }],
      ['dn.b', '1'],
      ['dn.c', '1'],
      ['$JS.API.STREAM.MSG.DELETE.DN', { seq: 1 }],
      ['$JS.API.STREAM.PURGE.DN'],
      ['$JS.API.STREAM.UPDATE.DN', { ...DN_CFG, deny_delete: false }],
      ['$JS.API.STREAM.UPDATE.DN', { ...DN_CFG, sealed: true }],
      ['dn.c', '1'],
      ['$JS.API.STREAM.INFO.DN'],
      ['$JS.API.STREAM.CREATE.DB', { name: 'DB', subjects: ['db'], storage: 'file', max_bytes: 200, discard: 'new' }],
      ['db', 'x'.repeat(100)],
      ['db', 'x'.repeat(100)],
      ['$JS.API.STREAM.INFO.DB'],
      ['$JS.API.STREAM.CREATE.DO', { name: 'DO', subjects: ['do'], storage: 'file', max_bytes: 300 }],
      ['do', 'y'.repeat(100)],
      ['do', 'y'.repeat(100)],
      ['do', 'y'.repeat(100)],
      ['$JS.API.STREAM.INFO.DO'],
      ['$JS.API.STREAM.DELETE.DN'],
      ['$JS.API.STREAM.DELETE.DB'],
      ['$JS.API.STREAM.DELETE.DO'],
    ]);
  },
);

test(
  'differential: budget errors with 1 MiB max_file_store / max_memory_store',
  { skip: SKIP && 'nats-server not installed' },
  async () => {
    const dir = tmpDir('herald-diff-conf-');
    const conf = join(dir, 'js.conf');
    writeFileSync(conf, 'jetstream {\n  max_file_store: 1048576\n  max_memory_store: 1048576\n}\n');
    const ref = await startNatsServer({ jetstream: true, args: ['-c', conf] });
    const her = await startHerald({ maxFileStore: 1024 * 1024, maxMemStore: 1024 * 1024 });
    const x = await connect({ servers: ref.url });
    const y = await connect({ servers: her.server.url });
    try {
      for (const step of [
        ['$JS.API.STREAM.CREATE.BIG', { name: 'BIG', max_bytes: 2 * 1024 * 1024 }],
        ['$JS.API.STREAM.CREATE.BIGM', { name: 'BIGM', storage: 'memory', max_bytes: 2 * 1024 * 1024 }],
        ['$JS.API.STREAM.CREATE.HALF', { name: 'HALF', max_bytes: 600 * 1024 }],
        ['$JS.API.STREAM.CREATE.HALF2', { name: 'HALF2', max_bytes: 600 * 1024 }],
        ['$JS.API.STREAM.CREATE.REST', { name: 'REST', max_bytes: 400 * 1024 }],
        ['$JS.API.STREAM.UPDATE.REST', { name: 'REST', max_bytes: 500 * 1024 }],
        ['$JS.API.STREAM.INFO.REST'],
      ] as Step[]) {
        compare(step, await observe(x, step), await observe(y, step));
      }
    } finally {
      await x.close();
      await y.close();
      await her.stop();
      await ref.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
