/**
 * Redis Pub/Sub beyond the differential table: one subject space with NATS (both directions, and
 * channels that are not NATS subjects), the Redis 7.2 push-after-reply order for a RESP3 client
 * publishing to itself, and `client-output-buffer-limit pubsub` closing a subscriber that does not
 * read, counted in INFO, while the publisher goes on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import type { Server } from '../../src/index.js';
import { RawResp, WAIT_MS, cmd, startHerald, within } from './helpers.js';
import { REPLY_PAUSE_BYTES } from '../../src/resp/connection.js';

describe('Redis Pub/Sub', () => {
  let server: Server;
  let nc: NatsConnection;
  let redis: Redis;
  before(async () => {
    server = await startHerald();
    nc = await connect({ servers: server.url });
    redis = new Redis({ port: server.redis!.port, host: '127.0.0.1' });
  });
  after(async () => {
    redis?.disconnect();
    await nc?.close();
    await server?.close();
  });

  test('PUBLISH orders.eu reaches NATS SUB orders.* and counts it', async () => {
    const sub = nc.subscribe('orders.*', { max: 1 });
    await nc.flush();
    const got = (async () => {
      for await (const m of sub) return `${m.subject} ${m.string()}`;
      return '';
    })();
    assert.equal(await redis.publish('orders.eu', 'x'), 1);
    assert.equal(await got, 'orders.eu x');
  });

  test('NATS PUB notifications:user:123 reaches Redis SUBSCRIBE and PSUBSCRIBE', async () => {
    const sub = new Redis({ port: server.redis!.port, host: '127.0.0.1' });
    try {
      const seen: string[] = [];
      const both = within<void>('message and pmessage', (done) => {
        sub.on('message', (ch, m) => {
          seen.push(`message ${ch} ${m}`);
          if (seen.length === 2) done();
        });
        sub.on('pmessage', (p, ch, m) => {
          seen.push(`pmessage ${p} ${ch} ${m}`);
          if (seen.length === 2) done();
        });
      });
      await sub.subscribe('notifications:user:123');
      await sub.psubscribe('notifications:user:*');
      nc.publish('notifications:user:123', 'hello');
      await both;
      assert.deepEqual(seen, [
        'message notifications:user:123 hello',
        'pmessage notifications:user:* notifications:user:123 hello',
      ]);
    } finally {
      sub.disconnect();
    }
  });

  test('a channel that is no NATS subject still works Redis to Redis and skips NATS', async () => {
    const all = nc.subscribe('>');
    let natsSaw = 0;
    void (async () => {
      for await (const m of all) if (m.subject.startsWith('odd')) natsSaw++;
    })();
    await nc.flush();
    const sub = new Redis({ port: server.redis!.port, host: '127.0.0.1' });
    try {
      const got = within<string>('message on a spaced channel', (done) => sub.on('message', (ch, m) => done(`${ch}|${m}`)));
      await sub.subscribe('odd channel..x');
      assert.equal(await redis.publish('odd channel..x', 'ok'), 1, 'only the Redis subscriber receives');
      assert.equal(await got, 'odd channel..x|ok');
      assert.equal(await redis.publish('odd.fine', 'n'), 1, 'a NATS-valid name reaches NATS >');
      await nc.flush();
      assert.equal(natsSaw, 1);
    } finally {
      all.unsubscribe();
      sub.disconnect();
    }
  });

  test('RESP3: a client publishing to its own channel gets the reply first, then the push (7.2+)', async () => {
    const c = await RawResp.connect(server.redis!.port);
    try {
      c.send(cmd('HELLO', '3'));
      await c.read(1);
      c.send(cmd('SUBSCRIBE', 'self'));
      assert.equal((await c.read(1)).toString(), '>3\r\n$9\r\nsubscribe\r\n$4\r\nself\r\n:1\r\n');
      c.send(cmd('PUBLISH', 'self', 'm'));
      assert.equal((await c.read(2)).toString(), ':1\r\n>3\r\n$7\r\nmessage\r\n$4\r\nself\r\n$1\r\nm\r\n');
    } finally {
      c.close();
    }
  });

  test('a subscriber that does not read is closed at the pubsub hard limit; the publisher is not held', async () => {
    const port = server.redis!.port;
    assert.equal(await redis.config('SET', 'client-output-buffer-limit', 'pubsub 256kb 0 0'), 'OK');
    const slow = await RawResp.connect(port);
    try {
      slow.send(cmd('SUBSCRIBE', 'firehose'));
      await slow.read(1);
      slow.socket.pause(); // never read again
      const before = Number(/client_output_buffer_limit_disconnections:(\d+)/.exec(await redis.info('stats'))![1]);
      const payload = 'x'.repeat(64 * 1024);
      let published = 0;
      // The kernel's socket buffers take some megabytes first; bounded at 256 MB.
      while (Number((await redis.pubsub('NUMSUB', 'firehose'))[1]) > 0) {
        assert.ok(published < 4096, 'the slow subscriber was never closed');
        const p = redis.pipeline();
        for (let i = 0; i < 16; i++) p.publish('firehose', payload);
        await p.exec();
        published += 16;
      }
      const after = Number(/client_output_buffer_limit_disconnections:(\d+)/.exec(await redis.info('stats'))![1]);
      assert.equal(after, before + 1);
      assert.equal(await redis.ping(), 'PONG');
    } finally {
      slow.close();
      await redis.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    }
  });

  test('a subscriber over the pubsub soft limit for longer than its seconds is closed', async () => {
    assert.equal(await redis.config('SET', 'client-output-buffer-limit', 'pubsub 0 256kb 1'), 'OK');
    const slow = await RawResp.connect(server.redis!.port);
    try {
      slow.send(cmd('SUBSCRIBE', 'softhose'));
      await slow.read(1);
      slow.socket.pause();
      const before = Number(/client_output_buffer_limit_disconnections:(\d+)/.exec(await redis.info('stats'))![1]);
      // 16 MB: more than loopback socket buffers take, so well over 256 kB stays queued.
      const p = redis.pipeline();
      for (let i = 0; i < 256; i++) p.publish('softhose', 'z'.repeat(64 * 1024));
      await p.exec();
      const deadline = Date.now() + WAIT_MS;
      while (Number((await redis.pubsub('NUMSUB', 'softhose'))[1]) > 0) {
        assert.ok(Date.now() < deadline, 'the subscriber over the soft limit was never closed');
        await new Promise((r) => setTimeout(r, 50));
      }
      const after = Number(/client_output_buffer_limit_disconnections:(\d+)/.exec(await redis.info('stats'))![1]);
      assert.equal(after, before + 1);
    } finally {
      slow.close();
      await redis.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    }
  });

  test('INFO counts Pub/Sub state with Redis field names', async () => {
    const sub = new Redis({ port: server.redis!.port, host: '127.0.0.1' });
    try {
      await sub.subscribe('c1', 'c2');
      await sub.psubscribe('p*');
      const info = await redis.info();
      assert.match(info, /^pubsub_channels:2\r$/m);
      assert.match(info, /^pubsub_patterns:1\r$/m);
      assert.match(info, /^pubsub_clients:1\r$/m);
      assert.match(info, /^blocked_clients:0\r$/m);
      assert.match(info, /^loading:0\r$/m);
      assert.match(info, /^total_error_replies:\d+\r$/m);
    } finally {
      sub.disconnect();
    }
  });
});

describe('Redis door backpressure on its own replies', () => {
  test('a client that pipelines without reading is paused, not buffered without bound, and loses nothing', async () => {
    const server = await startHerald();
    const c = await RawResp.connect(server.redis!.port);
    try {
      const arg = 'y'.repeat(1024 * 1024);
      const n = 48; // 48 MB of replies, three times REPLY_PAUSE_BYTES
      c.socket.pause();
      for (let i = 0; i < n; i++) c.send(cmd('ECHO', arg));
      // Give the server time to read what it will; it must stop well before all 48 MB are queued.
      const deadline = Date.now() + 2000;
      let maxPending = 0;
      while (Date.now() < deadline) {
        for (const conn of server.redis!.connections.values()) maxPending = Math.max(maxPending, conn.pendingBytes);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(maxPending < REPLY_PAUSE_BYTES + 4 * 1024 * 1024, `pending replies reached ${maxPending} bytes`);
      c.socket.resume();
      const frame = Buffer.from(`$${arg.length}\r\n${arg}\r\n`);
      const all = await c.readBytes(n * frame.length, 30_000);
      for (let i = 0; i < n; i++) assert.ok(all.subarray(i * frame.length, (i + 1) * frame.length).equals(frame), `reply ${i}`);
    } finally {
      c.close();
      await server.close();
    }
  });
});
