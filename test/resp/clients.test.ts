/**
 * Real Redis clients against herald's Redis door, with their default options and with the other
 * protocol: ioredis 6 (RESP3 by default, `protocol: 2`), node-redis 6 (RESP3 by default, `RESP: 2`),
 * and the `redis-cli` binary. They run their own handshakes (HELLO, CLIENT SETINFO, INFO ready
 * check, SELECT) and Pub/Sub state machines, so this is what "clients work unchanged" means.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { Server } from '../../src/index.js';
import { WAIT_MS, startHerald, within } from './helpers.js';

describe('real Redis clients', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = await startHerald();
    port = server.redis!.port;
  });
  after(() => server?.close());

  for (const protocol of [3, 2] as const) {
    test(`ioredis (protocol ${protocol}): handshake, PING/ECHO/SELECT/INFO/CLIENT, publish/subscribe/psubscribe`, async () => {
      const pub = new Redis({ port, host: '127.0.0.1', protocol, db: 3, connectionName: 'pub', maxRetriesPerRequest: 1 });
      const sub = new Redis({ port, host: '127.0.0.1', protocol, maxRetriesPerRequest: 1 });
      try {
        assert.equal(await pub.ping(), 'PONG');
        assert.equal(await pub.echo('hi'), 'hi');
        assert.equal(await pub.client('GETNAME'), 'pub');
        const info = await pub.info('server');
        assert.match(String(info), /redis_version:7\.\d+\.\d+/);
        assert.match((await pub.client('INFO')) as string, /name=pub .*db=3 /);
        assert.match((await pub.client('LIST')) as string, /lib-name=ioredis/);
        assert.equal(await pub.dbsize(), 0);
        await assert.rejects(pub.call('NOSUCH', 'a'), /ERR unknown command 'NOSUCH', with args beginning with: 'a'/);

        const got: string[] = [];
        const all = within<void>('4 messages', (done) => {
          sub.on('message', (ch, msg) => {
            got.push(`message ${ch} ${msg}`);
            if (got.length === 4) done();
          });
          sub.on('pmessage', (pat, ch, msg) => {
            got.push(`pmessage ${pat} ${ch} ${msg}`);
            if (got.length === 4) done();
          });
        });
        assert.equal(await sub.subscribe('orders', 'audit'), 2);
        assert.equal(await sub.psubscribe('notifications:user:*'), 3);
        assert.equal(await pub.publish('orders', 'o1'), 1);
        assert.equal(await pub.publish('audit', 'a1'), 1);
        assert.equal(await pub.publish('notifications:user:123', 'n1'), 1);
        assert.equal(await pub.publish('nobody', 'x'), 0);
        assert.equal(await pub.publish('orders', 'o2'), 1);
        await all;
        assert.deepEqual(got, [
          'message orders o1',
          'message audit a1',
          'pmessage notifications:user:* notifications:user:123 n1',
          'message orders o2',
        ]);
        assert.deepEqual(await pub.pubsub('NUMSUB', 'orders', 'none'), ['orders', 1, 'none', 0]);
        assert.equal(await pub.pubsub('NUMPAT'), 1);
        // A bare (P)UNSUBSCRIBE settles in ioredis only once the count (channels + patterns)
        // reaches 0, as against redis-server: name what to leave.
        assert.equal(await sub.punsubscribe('notifications:user:*'), 2);
        assert.equal(await sub.unsubscribe('orders', 'audit'), 0);
        assert.equal(await pub.publish('orders', 'o3'), 0);
        assert.equal(await sub.ping(), 'PONG', 'left subscriber mode');
      } finally {
        pub.disconnect();
        sub.disconnect();
      }
    });
  }

  test('ioredis resubscribes after herald restarts on the same port', async () => {
    const s1 = await import('../../src/index.js').then((m) =>
      m.Server.start({ port: 0, redisPort: 0, jetstream: false, logger: m.silentLogger() }),
    );
    const p = s1.redis!.port;
    const sub = new Redis({ port: p, host: '127.0.0.1', retryStrategy: () => 50 });
    let s2: Server | null = null;
    try {
      await sub.subscribe('orders');
      const ready = within<void>('reconnect', (done) => sub.once('ready', () => done()));
      await s1.close();
      const { Server: S, silentLogger } = await import('../../src/index.js');
      s2 = await S.start({ port: 0, redisPort: p, jetstream: false, logger: silentLogger() });
      await ready;
      const msg = within<string>('message after restart', (done) => sub.on('message', (_c, m) => done(m)));
      const pub = new Redis({ port: p, host: '127.0.0.1' });
      try {
        // The resubscription may land just after 'ready': publish until someone receives.
        const deadline = Date.now() + WAIT_MS;
        while ((await pub.publish('orders', 'again')) === 0) {
          if (Date.now() > deadline) throw new Error('ioredis never resubscribed');
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(await msg, 'again');
      } finally {
        pub.disconnect();
      }
    } finally {
      sub.disconnect();
      await s2?.close();
    }
  });

  for (const RESP of [3, 2] as const) {
    test(`node-redis (RESP ${RESP}): connect, ping, subscribe callback, pSubscribe, info`, async () => {
      const url = `redis://127.0.0.1:${port}`;
      const client = createClient({ url, RESP, name: 'node-redis' });
      const subscriber = client.duplicate();
      client.on('error', () => undefined);
      subscriber.on('error', () => undefined);
      await client.connect();
      await subscriber.connect();
      try {
        assert.equal(await client.ping(), 'PONG');
        assert.equal(await client.sendCommand(['CLIENT', 'GETNAME']), 'node-redis');
        assert.match(String(await client.info('clients')), /connected_clients:\d+/);
        const got = within<string[]>('2 messages', (done) => {
          const seen: string[] = [];
          void subscriber.subscribe('orders', (m, ch) => {
            seen.push(`${ch}:${m}`);
            if (seen.length === 2) done(seen);
          });
          void subscriber.pSubscribe('orders.*', (m, ch) => {
            seen.push(`${ch}:${m}`);
            if (seen.length === 2) done(seen);
          });
        });
        // Publish until both subscriptions are in place (their confirmations are async).
        const deadline = Date.now() + WAIT_MS;
        while (Number(await client.sendCommand(['PUBSUB', 'NUMPAT'])) !== 1 || (await client.publish('orders', 'probe')) === 0) {
          if (Date.now() > deadline) throw new Error('subscriptions never arrived');
          await new Promise((r) => setTimeout(r, 10));
        }
        await client.publish('orders.eu', 'x');
        const seen = await got;
        assert.deepEqual(seen, ['orders:probe', 'orders.eu:x']);
        await subscriber.pUnsubscribe();
        await subscriber.unsubscribe();
      } finally {
        await client.close();
        await subscriber.close();
      }
    });
  }

  test('redis-cli: commands, RESP3, errors, --pipe', async () => {
    // Asynchronous: herald runs in this process, so a blocking spawn would starve it.
    const cli = (args: string[], input?: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const p = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
        let out = '';
        const t = setTimeout(() => {
          p.kill('SIGKILL');
          reject(new Error(`redis-cli ${args.join(' ')} timed out; got ${JSON.stringify(out)}`));
        }, 10_000);
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.on('close', () => {
          clearTimeout(t);
          resolve(out);
        });
        p.stdin.end(input ?? '');
      });
    assert.equal(await cli(['PING']), 'PONG\n');
    assert.equal(await cli(['ECHO', 'hello world']), 'hello world\n');
    assert.match(await cli(['-3', 'HELLO', '3']), /^proto 3$/m);
    assert.match(await cli(['NOSUCH']), /ERR unknown command 'NOSUCH'/);
    assert.match(await cli(['INFO', 'server']), /redis_mode:standalone/);
    assert.equal(await cli(['-n', '5', 'DBSIZE']), '0\n');
    const piped = await cli(['--pipe'], 'PING\r\nECHO a\r\n*3\r\n$7\r\nPUBLISH\r\n$1\r\nx\r\n$1\r\ny\r\n');
    assert.match(piped, /errors: 0, replies: 3/);
  });
});
