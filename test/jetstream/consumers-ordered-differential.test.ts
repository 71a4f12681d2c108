// Ordered consumers and what is built on them, against the real nats-server (`-js`, random port),
// with the `nats` v2 client on both: an ordered push subscription, an ordered pull consumer
// (`js.consumers.get(stream)`), KV keys / history / watch after puts, deletes and a purge, and an
// object-store put / get / info / list; everything a client observes is compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consumerOpts, type NatsConnection } from 'nats';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { differentialConnections } from './differential-pair.js';

const SKIP = !natsServerAvailable();
const pair = differentialConnections(SKIP);
const N = 50;
const WAIT_MS = 10_000;

function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_r, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: no end after ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function ordered(nc: NatsConnection): Promise<unknown> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'ORD', subjects: ['ord.>'] });
  const js = nc.jetstream();
  for (let i = 0; i < N; i++) await js.publish(`ord.${i % 3}`, `m${i}`);
  const opts = consumerOpts();
  opts.orderedConsumer();
  opts.filterSubject('ord.1');
  const sub = await js.subscribe('ord.>', opts);
  const push: string[] = [];
  await bounded(
    (async () => {
      for await (const m of sub) {
        push.push(`${m.seq}:${m.subject}:${m.string()}:${m.info.pending}`);
        if (m.info.pending === 0) break;
      }
    })(),
    'ordered push',
  );
  const c = await js.consumers.get('ORD');
  const pull: string[] = [];
  const iter = await c.consume({ max_messages: 10 });
  await bounded(
    (async () => {
      for await (const m of iter) {
        pull.push(`${m.seq}:${m.string()}:${m.info.pending}`);
        if (m.info.pending === 0) break;
      }
    })(),
    'ordered pull',
  );
  return { push, pull };
}

test('ordered push and ordered pull consumers deliver the same sequence as nats-server', { skip: SKIP && 'nats-server not installed' }, async () => {
  const [r, h] = await Promise.all([ordered(pair.ref), ordered(pair.herald)]);
  assert.equal((r as { pull: string[] }).pull.length, N);
  assert.deepEqual(h, r);
});

async function kv(nc: NatsConnection): Promise<unknown> {
  const js = nc.jetstream();
  const b = await js.views.kv('cfg', { history: 3 });
  await b.put('a', new TextEncoder().encode('1'));
  await b.put('b', new TextEncoder().encode('2'));
  await b.put('a', new TextEncoder().encode('3'));
  await b.put('c', new TextEncoder().encode('4'));
  await b.delete('b');
  await b.put('a', new TextEncoder().encode('5'));
  await b.purge('c');
  const entry = (e: { key: string; revision: number; operation: string; string(): string }) => `${e.key}@${e.revision}:${e.operation}:${e.string()}`;
  const keys: string[] = [];
  for await (const k of await b.keys()) keys.push(k);
  const hist: string[] = [];
  for await (const e of await b.history({ key: 'a' })) hist.push(entry(e));
  const watched: string[] = [];
  const w = await b.watch();
  await bounded(
    (async () => {
      for await (const e of w) {
        watched.push(entry(e));
        if (e.delta === 0) break;
      }
    })(),
    'kv watch',
  );
  return { keys: keys.sort(), hist, watched };
}

test('KV keys, history and watch match nats-server', { skip: SKIP && 'nats-server not installed' }, async () => {
  const [r, h] = await Promise.all([kv(pair.ref), kv(pair.herald)]);
  assert.deepEqual(h, r);
});

async function os(nc: NatsConnection): Promise<unknown> {
  const js = nc.jetstream();
  const store = await js.views.os('files');
  const data = new Uint8Array(300_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  const put = await store.putBlob({ name: 'blob.bin' }, data);
  const got = await store.getBlob('blob.bin');
  const info = await store.info('blob.bin');
  const list = (await store.list()).map((o) => [o.name, o.size, o.chunks, o.digest]);
  return {
    put: [put.name, put.size, put.chunks, put.digest],
    same: got !== null && Buffer.compare(Buffer.from(got), Buffer.from(data)) === 0,
    info: info === null ? null : [info.size, info.chunks, info.digest, info.deleted],
    list,
  };
}

test('object store put, get, info and list match nats-server', { skip: SKIP && 'nats-server not installed' }, async () => {
  const [r, h] = await Promise.all([os(pair.ref), os(pair.herald)]);
  assert.equal((r as { same: boolean }).same, true);
  assert.deepEqual(h, r);
});
