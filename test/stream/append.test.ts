// Stream.append without any door: results, neutral error kinds, rollups, limits, observers and
// durability ordering, on the memory and the file store. No NATS code here: headers are opaque
// bytes and the codec below reads a msg id out of them in a format of this test's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/log.js';
import { checkStreamConfig, checkStreamUpdate, type Storage, type StreamConfig } from '../../src/stream/config.js';
import type { AppendError } from '../../src/stream/errors.js';
import { NO_EXPECTATIONS, type AppendAck, type Expectations, type Stream } from '../../src/stream/stream.js';
import { Streams, type StreamCodec, type StreamsOptions } from '../../src/stream/streams.js';

/** How long one append may take to complete before the test fails. */
const DONE_TIMEOUT_MS = 5000;

/** Headers in this test are `id=<msg id>` or anything else (no id). */
const TEST_CODEC: StreamCodec = {
  msgId: (h) => (h !== null && h.toString().startsWith('id=') ? h.toString().slice(3) : ''),
  configToMeta: (cfg) => ({ ...cfg }),
  configFromMeta: (stored) => stored,
  reserved: [],
  timeToMeta: (ns) => ns.toString(),
  timeFromMeta: (text) => (/^\d+$/.test(text) ? BigInt(text) : null),
};

interface Outcome {
  err: AppendError | null;
  ack: AppendAck | null;
  /** True when `done` ran inside the call to append (refusals do; stored appends never). */
  sync: boolean;
}

async function start(opts: Partial<StreamsOptions> = {}, dir?: string): Promise<{ all: Streams; dir: string }> {
  const d = dir ?? mkdtempSync(join(os.tmpdir(), 'herald-stream-'));
  const all = await Streams.start({
    storeDir: d,
    maxFileStore: -1,
    maxMemStore: -1,
    sync: { kind: 'always' },
    logger: silentLogger(),
    codec: TEST_CODEC,
    ...opts,
  });
  return { all, dir: d };
}

function config(raw: Record<string, unknown>): StreamConfig {
  const r = checkStreamConfig(raw, false);
  assert.equal(r.err, null, JSON.stringify(r.err));
  return r.cfg as StreamConfig;
}

function exp(e: Partial<Expectations>): Expectations {
  return { ...NO_EXPECTATIONS, ...e };
}

/** Appends and resolves with how it completed; fails the test if it never does. */
function append(
  s: Stream,
  subject: string,
  payload = 'x',
  e: Expectations | null = null,
  headers: Buffer | null = null,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let inside = true;
    const timer = setTimeout(() => reject(new Error(`append to ${subject} did not complete`)), DONE_TIMEOUT_MS);
    s.append(subject, headers, Buffer.from(payload), e, null, (_ctx, err, ack) => {
      clearTimeout(timer);
      resolve({ err, ack, sync: inside });
    });
    inside = false;
  });
}

async function stored(s: Stream, subject: string, payload = 'x', e: Expectations | null = null): Promise<AppendAck> {
  const o = await append(s, subject, payload, e);
  assert.equal(o.err, null, JSON.stringify(o.err));
  return o.ack as AppendAck;
}

for (const storage of ['memory', 'file'] as Storage[]) {
  test(`${storage}: append completes with seq, ts and duplicate:false, only after the call returns`, async () => {
    const { all, dir } = await start();
    const s = await all.createStream(config({ name: 'A', subjects: ['a.>'], storage }));
    const before = BigInt(Date.now() - 1000) * 1_000_000n;
    const o1 = await append(s, 'a.1');
    assert.equal(o1.sync, false, 'a stored append completes once durable, never inside append');
    assert.deepEqual({ seq: o1.ack?.seq, duplicate: o1.ack?.duplicate }, { seq: 1, duplicate: false });
    assert.ok((o1.ack as AppendAck).ts > before);
    assert.equal((await stored(s, 'a.2')).seq, 2);
    assert.equal(s.getMsg({ seq: 2 })?.subject, 'a.2');
    await all.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${storage}: completions run from the store's durability callback, in append order`, async () => {
    const { all, dir } = await start();
    const s = await all.createStream(config({ name: 'D', subjects: ['d'], storage }));
    // Watch the store: a completion must run while a whenDurable callback is running.
    const store = s.store;
    const orig = store.whenDurable.bind(store);
    let inDurable = false;
    store.whenDurable = (cb) =>
      orig((err) => {
        inDurable = true;
        try {
          cb(err);
        } finally {
          inDurable = false;
        }
      });
    const order: number[] = [];
    const all3 = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('appends did not complete')), DONE_TIMEOUT_MS);
      for (let i = 0; i < 3; i++) {
        s.append('d', null, Buffer.from(`m${i}`), null, i, (ctx, err, ack) => {
          assert.equal(err, null);
          assert.ok(inDurable, 'completed outside a durability callback');
          assert.equal(ack?.seq, ctx + 1);
          order.push(ctx);
          if (order.length === 3) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
    });
    await all3;
    assert.deepEqual(order, [0, 1, 2]);
    await all.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${storage}: a duplicate msg id completes with the original seq and stores nothing`, async () => {
    const { all, dir } = await start();
    const s = await all.createStream(config({ name: 'U', subjects: ['u'], storage }));
    const first = await stored(s, 'u', 'one', exp({ msgId: 'k1' }));
    const again = await append(s, 'u', 'two', exp({ msgId: 'k1' }));
    assert.equal(again.err, null);
    assert.equal(again.sync, false, 'a duplicate also waits for the original to be durable');
    assert.deepEqual(again.ack, { seq: first.seq, ts: first.ts, duplicate: true });
    assert.equal(s.state().messages, 1);
    await all.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${storage}: expectations refuse with neutral kinds, at once, storing nothing`, async () => {
    const { all, dir } = await start();
    const s = await all.createStream(config({ name: 'E', subjects: ['e.*'], storage }));
    await stored(s, 'e.a', 'm1', exp({ msgId: 'first' }));
    await stored(s, 'e.b', 'm2');
    const cases: [Partial<Expectations>, AppendError][] = [
      [{ stream: 'OTHER' }, { kind: 'wrong-stream' }],
      [{ lastSeq: 1 }, { kind: 'wrong-last-sequence', lastSeq: 2 }],
      [{ lastSeq: -1 }, { kind: 'wrong-last-sequence', lastSeq: 2 }],
      [{ lastSubjectSeq: 2 }, { kind: 'wrong-last-sequence', lastSeq: 1 }],
      [
        { lastSubjectSeq: 1, lastSubjectSeqSubject: 'e.b' },
        { kind: 'wrong-last-sequence', lastSeq: 2 },
      ],
      [{ lastSubjectSeqSubject: 'e.b' }, { kind: 'missing-last-subject-sequence' }],
      [{ lastMsgId: 'first' }, { kind: 'wrong-last-msg-id', lastMsgId: '' }],
      [{ rollup: 'sub' }, { kind: 'rollup-not-permitted' }],
    ];
    for (const [e, want] of cases) {
      const o = await append(s, 'e.a', 'no', exp(e));
      assert.deepEqual(o.err, want, JSON.stringify(e));
      assert.equal(o.ack, null);
      assert.equal(o.sync, true, 'a refusal completes inside append');
    }
    // The matching expectations pass.
    assert.equal((await stored(s, 'e.a', 'ok', exp({ stream: 'E', lastSeq: 2, lastSubjectSeq: 1 }))).seq, 3);
    assert.equal(s.state().messages, 3);
    await all.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${storage}: rollups keep only the new message on the subject or in the stream`, async () => {
    const { all, dir } = await start();
    const s = await all.createStream(config({ name: 'R', subjects: ['r.*'], storage, allow_rollup_hdrs: true }));
    for (const subj of ['r.a', 'r.a', 'r.b']) await stored(s, subj);
    assert.deepEqual((await append(s, 'r.a', 'x', exp({ rollup: 'some' }))).err, { kind: 'rollup-invalid', value: 'some' });
    await stored(s, 'r.a', 'sub', exp({ rollup: 'sub' }));
    assert.deepEqual(Object.fromEntries(s.subjectCounts('>')), { 'r.a': 1, 'r.b': 1 });
    const last = await stored(s, 'r.b', 'all', exp({ rollup: 'all' }));
    assert.equal(s.state().messages, 1);
    assert.equal(s.state().firstSeq, last.seq);
    await all.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${storage}: sizes, discard-new limits and the server budget refuse with their kinds`, async () => {
    const { all, dir } = await start(storage === 'memory' ? { maxMemStore: 10_000 } : { maxFileStore: 10_000 });
    const s = await all.createStream(
      config({
        name: 'L',
        subjects: ['l.*'],
        storage,
        max_msg_size: 100,
        discard: 'new',
        max_msgs: 3,
        max_msgs_per_subject: 2,
        discard_new_per_subject: true,
      }),
    );
    assert.deepEqual((await append(s, 'l.a', 'y'.repeat(101))).err, { kind: 'msg-too-large' });
    await stored(s, 'l.a');
    await stored(s, 'l.a');
    assert.deepEqual((await append(s, 'l.a')).err, { kind: 'limit-reached', limit: 'max-msgs-per-subject' });
    await stored(s, 'l.b');
    assert.deepEqual((await append(s, 'l.c')).err, { kind: 'limit-reached', limit: 'max-msgs' });
    const b = await all.createStream(config({ name: 'B', subjects: ['b'], storage, discard: 'new', max_bytes: 200 }));
    await stored(b, 'b', 'z'.repeat(100));
    assert.deepEqual((await append(b, 'b', 'z'.repeat(100))).err, { kind: 'limit-reached', limit: 'max-bytes' });
    const h = await all.createStream(config({ name: 'H', subjects: ['h'], storage }));
    const big = Buffer.alloc(70_000, 0x61);
    const o = await append(h, 'h', '', null, big);
    assert.deepEqual(o.err, { kind: 'headers-too-large' });
    const budget = await append(h, 'h', 'q'.repeat(20_000));
    assert.deepEqual(budget.err, { kind: 'insufficient-resources' });
    await all.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${storage}: a sealed stream refuses appends`, async () => {
    const { all, dir } = await start();
    const s = await all.createStream(config({ name: 'S', subjects: ['s'], storage }));
    await stored(s, 's');
    const upd = checkStreamUpdate(s.cfg, config({ name: 'S', subjects: ['s'], storage, sealed: true }));
    assert.equal(upd.err, null);
    await all.updateStream(s, upd.cfg as StreamConfig);
    assert.deepEqual((await append(s, 's')).err, { kind: 'sealed' });
    await all.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${storage}: observers see stored appends only, and stop when unsubscribed`, async () => {
    const { all, dir } = await start();
    const s = await all.createStream(config({ name: 'O', subjects: ['o.*'], storage, max_msgs: 5, discard: 'new' }));
    const seen: string[] = [];
    const stop = s.observe((seq, subject) => seen.push(`${seq}:${subject}`));
    await stored(s, 'o.a', 'x', exp({ msgId: 'm' }));
    await append(s, 'o.a', 'x', exp({ msgId: 'm' })); // duplicate: nothing stored
    await append(s, 'o.a', 'x', exp({ lastSeq: 9 })); // refused
    await stored(s, 'o.b');
    stop();
    await stored(s, 'o.c');
    assert.deepEqual(seen, ['1:o.a', '2:o.b']);
    await all.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${storage}: a store that throws completes with store-failed`, async () => {
    const { all, dir } = await start();
    const s = await all.createStream(config({ name: 'F', subjects: ['f'], storage }));
    const store = s.store;
    const orig = store.append.bind(store);
    store.append = () => {
      throw new Error('disk on fire');
    };
    assert.deepEqual((await append(s, 'f')).err, { kind: 'store-failed', message: 'disk on fire' });
    store.append = orig;
    assert.equal((await stored(s, 'f')).seq, 1);
    await all.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

test('file: the dedupe window and last msg id are rebuilt on restart through the injected codec', async () => {
  const first = await start();
  const s = await first.all.createStream(config({ name: 'P', subjects: ['p'], storage: 'file' }));
  // A door stores the id inside the opaque headers and passes it parsed as well.
  assert.equal((await append(s, 'p', 'one', exp({ msgId: 'a' }), Buffer.from('id=a'))).err, null);
  const two = (await append(s, 'p', 'two', exp({ msgId: 'b' }), Buffer.from('id=b'))).ack as AppendAck;
  await first.all.close();
  const again = await start({}, first.dir);
  const p = again.all.get('P') as Stream;
  assert.ok(p !== undefined, 'stream recovered');
  const dup = await append(p, 'p', 'two again', exp({ msgId: 'b' }));
  assert.deepEqual({ seq: dup.ack?.seq, duplicate: dup.ack?.duplicate }, { seq: two.seq, duplicate: true });
  assert.equal((await append(p, 'p', 'x', exp({ lastMsgId: 'a' }))).err?.kind, 'wrong-last-msg-id');
  assert.equal((await stored(p, 'p', 'three', exp({ lastMsgId: 'b' }))).seq, 3);
  await again.all.close();
  rmSync(first.dir, { recursive: true, force: true });
});
