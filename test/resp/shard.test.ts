/**
 * Sharded Pub/Sub (SSUBSCRIBE / SPUBLISH / SUNSUBSCRIBE) through real clients: ioredis (`ssubscribe`,
 * `smessage`) and node-redis (`sSubscribe`/`sPublish`); shard channels are their own namespace (no
 * NATS delivery, no PUBLISH/SUBSCRIBE crossing) while plain PUBLISH still reaches NATS; RESP3 own
 * shard message after the reply; INFO counters. Byte-level shapes are in the differential table.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { Server } from '../../src/index.js';
import { RawResp, cmd, startHerald, within } from './helpers.js';

describe('Redis sharded Pub/Sub', () => {
  let server: Server;
  let port: number;
  let nc: NatsConnection;
  before(async () => {
    server = await startHerald();
    port = server.redis!.port;
    nc = await connect({ servers: server.url });
  });
  after(async () => {
    await nc?.close();
    await server?.close();
  });

  for (const protocol of [3, 2] as const) {
    test(`ioredis (protocol ${protocol}): ssubscribe/spublish/smessage, separate from PUBLISH and NATS`, async () => {
      const pub = new Redis({ port, host: '127.0.0.1', protocol });
      const sub = new Redis({ port, host: '127.0.0.1', protocol });
      const natsAll = nc.subscribe('shard.>');
      let natsSaw: string[] = [];
      void (async () => {
        for await (const m of natsAll) natsSaw.push(`${m.subject} ${m.string()}`);
      })();
      try {
        await nc.flush();
        const got = within<string>('an smessage', (done) => sub.on('smessage', (ch: string, m: string) => done(`${ch} ${m}`)));
        sub.on('message', (ch: string) => assert.fail(`PUBLISH reached a shard subscriber on ${ch}`));
        assert.equal(await sub.ssubscribe('shard.a'), 1);
        assert.equal(await pub.publish('shard.a', 'plain'), 1, 'PUBLISH reaches NATS only');
        assert.equal(await pub.spublish('shard.a', 'sharded'), 1);
        assert.equal(await got, 'shard.a sharded');
        assert.deepEqual(await pub.pubsub('SHARDNUMSUB', 'shard.a'), ['shard.a', 1]);
        assert.deepEqual(await pub.pubsub('SHARDCHANNELS', 'shard.*'), ['shard.a']);
        assert.match(await pub.info('stats'), /pubsubshard_channels:1\r\n/);
        await nc.flush();
        assert.deepEqual(natsSaw, ['shard.a plain'], 'NATS sees PUBLISH, never SPUBLISH');
        assert.equal(await sub.sunsubscribe('shard.a'), 0);
        assert.equal(await pub.spublish('shard.a', 'gone'), 0);
      } finally {
        natsAll.unsubscribe();
        natsSaw = [];
        pub.disconnect();
        sub.disconnect();
      }
    });

    test(`node-redis (RESP${protocol}): sSubscribe / sPublish`, async () => {
      const pub = createClient({ url: `redis://127.0.0.1:${port}`, RESP: protocol });
      const sub = pub.duplicate();
      await Promise.all([pub.connect(), sub.connect()]);
      try {
        const got = within<string>('a sharded message', (done) => {
          void sub.sSubscribe('orders', (m: string, ch: string) => done(`${ch} ${m}`));
        });
        // sSubscribe's callback form does not say when the server confirmed: poll the count (bounded).
        for (let i = 0; (await pub.pubSubShardNumSub('orders')).orders !== 1; i++) {
          assert.ok(i < 500, 'the shard subscription never showed in PUBSUB SHARDNUMSUB');
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.equal(await pub.sPublish('orders', 'o1'), 1);
        assert.equal(await got, 'orders o1');
      } finally {
        await Promise.all([pub.close(), sub.close()]);
      }
    });
  }

  test('RESP3: SPUBLISH to its own shard channel answers first, then the smessage push (7.2+)', async () => {
    const c = await RawResp.connect(port);
    try {
      c.send(cmd('HELLO', '3'));
      await c.read(1);
      c.send(cmd('SSUBSCRIBE', 'me'));
      assert.equal((await c.read(1)).toString(), '>3\r\n$10\r\nssubscribe\r\n$2\r\nme\r\n:1\r\n');
      c.send(cmd('SPUBLISH', 'me', 'm'));
      assert.equal((await c.read(2)).toString(), ':1\r\n>3\r\n$8\r\nsmessage\r\n$2\r\nme\r\n$1\r\nm\r\n');
      c.send(cmd('CLIENT', 'INFO'));
      assert.match((await c.read(1)).toString(), / flags=P .* ssub=1 /);
    } finally {
      c.close();
    }
  });

  test('a subscriber that stops reading for a while gets every message, in order, once it reads again', async () => {
    const sub = await RawResp.connect(port);
    const pub = await RawResp.connect(port);
    try {
      sub.send(cmd('SSUBSCRIBE', 'burst'));
      await sub.read(1);
      sub.socket.pause(); // the kernel buffers fill, then herald holds output until the socket drains
      const n = 3000;
      const payload = 'p'.repeat(1000);
      for (let i = 0; i < n; i += 100) {
        pub.send(Buffer.concat(Array.from({ length: 100 }, (_, j) => cmd('SPUBLISH', 'burst', `${i + j}:${payload}`))));
        await pub.read(100);
      }
      sub.socket.resume();
      // Read in slices: each read scans only what it has not consumed yet.
      let got = '';
      for (let i = 0; i < n; i += 100) got += (await sub.read(100)).toString('latin1');
      const seq = [...got.matchAll(/\r\n(\d+):p/g)].map((m) => Number(m[1]));
      assert.equal(seq.length, n);
      assert.ok(
        seq.every((v, i) => v === i),
        'messages in order',
      );
    } finally {
      sub.close();
      pub.close();
    }
  });
});
