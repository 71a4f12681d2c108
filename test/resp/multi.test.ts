/**
 * MULTI / EXEC / DISCARD / WATCH through real clients (ioredis `multi()`/`watch()`, node-redis
 * `multi().exec()`) and raw RESP; the exact bytes against redis-server are in the differential
 * table (test/resp/differential.test.ts). herald has no write command of its own yet besides DEL
 * and FLUSH*, so the WATCH tests put a key in the keyspace in-process, as the streams commands will.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { Server } from '../../src/index.js';
import { RawResp, cmd, startHerald } from './helpers.js';

describe('Redis transactions', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = await startHerald();
    port = server.redis!.port;
  });
  after(() => server?.close());

  const putKey = (db: number, key: string): void => {
    server.redis!.keyspace.dbs[db].set(key, { type: 'stream' });
  };

  for (const protocol of [3, 2] as const) {
    test(`ioredis (protocol ${protocol}): multi().exec() and watch() aborted by another client's DEL`, async () => {
      const a = new Redis({ port, host: '127.0.0.1', protocol, maxRetriesPerRequest: 1 });
      const b = new Redis({ port, host: '127.0.0.1', protocol, maxRetriesPerRequest: 1 });
      try {
        assert.deepEqual(await a.multi().ping().echo('x').dbsize().exec(), [
          [null, 'PONG'],
          [null, 'x'],
          [null, 0],
        ]);
        putKey(0, `w${protocol}`);
        await a.watch(`w${protocol}`);
        assert.equal(await b.del(`w${protocol}`), 1);
        assert.equal(await a.multi().ping().exec(), null, 'EXEC after a watched key changed answers null');
        // Watches end with EXEC: the next transaction runs.
        assert.deepEqual(await a.multi().ping().exec(), [[null, 'PONG']]);
        // A queue-time error aborts the whole transaction.
        await assert.rejects(a.multi().ping().call('NOSUCH').exec(), /EXECABORT/);
      } finally {
        a.disconnect();
        b.disconnect();
      }
    });

    test(`node-redis (RESP${protocol}): multi().exec() with a runtime error inside`, async () => {
      const c = createClient({ url: `redis://127.0.0.1:${port}`, RESP: protocol });
      await c.connect();
      try {
        assert.deepEqual(await c.multi().ping().echo('y').exec(), ['PONG', 'y']);
        // One command failing inside EXEC: node-redis rejects exec() with the per-command replies.
        await assert.rejects(c.multi().ping().addCommand(['SELECT', '99']).exec(), (e: Error & { replies?: unknown[] }) => {
          assert.equal(e.replies?.[0], 'PONG');
          assert.match(String(e.replies?.[1]), /DB index is out of range/);
          return true;
        });
      } finally {
        await c.close();
      }
    });
  }

  test('WATCH: own DEL, FLUSHDB of an existing key, other db, UNWATCH, DISCARD and RESET', async () => {
    const c = await RawResp.connect(port);
    const ask = async (...a: string[]): Promise<string> => {
      c.send(cmd(...a));
      return (await c.read(1)).toString('latin1');
    };
    const txPing = async (): Promise<string> => {
      c.send(Buffer.concat([cmd('MULTI'), cmd('PING'), cmd('EXEC')]));
      return (await c.read(3)).toString('latin1');
    };
    const ok = '+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n';
    const aborted = '+OK\r\n+QUEUED\r\n*-1\r\n';
    try {
      putKey(0, 'k');
      assert.equal(await ask('WATCH', 'k'), '+OK\r\n');
      assert.equal(await ask('DEL', 'k'), ':1\r\n');
      assert.equal(await txPing(), aborted, "the client's own write counts");

      putKey(0, 'k');
      await ask('WATCH', 'k', 'missing');
      assert.equal(await ask('FLUSHDB'), '+OK\r\n');
      assert.equal(await txPing(), aborted, 'FLUSHDB touches watched keys that existed');

      await ask('WATCH', 'missing');
      await ask('FLUSHALL');
      assert.equal(await txPing(), ok, 'FLUSHALL does not touch a watched key that did not exist (7.0)');

      putKey(1, 'k');
      await ask('WATCH', 'k'); // db 0
      await ask('SELECT', '1');
      await ask('DEL', 'k');
      assert.equal(await txPing(), ok, 'a key of another db is another key');
      await ask('SELECT', '0');

      for (const clear of ['UNWATCH', 'RESET']) {
        putKey(0, 'k');
        await ask('WATCH', 'k');
        await ask(clear);
        await ask('DEL', 'k');
        assert.equal(await txPing(), ok, `${clear} drops the watches`);
      }
      putKey(0, 'k');
      await ask('WATCH', 'k');
      c.send(Buffer.concat([cmd('MULTI'), cmd('DISCARD')]));
      assert.equal((await c.read(2)).toString('latin1'), '+OK\r\n+OK\r\n');
      await ask('DEL', 'k');
      assert.equal(await txPing(), ok, 'DISCARD drops the watches');
    } finally {
      c.close();
    }
  });

  test('a closed client leaves no watch behind, and EXEC runs its queue with no other command in between', async () => {
    const a = await RawResp.connect(port);
    putKey(0, 'z');
    a.send(cmd('WATCH', 'z'));
    await a.read(1);
    a.close();
    const b = await RawResp.connect(port);
    try {
      b.send(cmd('DEL', 'z'));
      assert.equal((await b.read(1)).toString('latin1'), ':1\r\n');
      // A subscriber sees both publishes of one EXEC back to back, the count of each is right.
      const s = await RawResp.connect(port);
      s.send(cmd('SUBSCRIBE', 'tx'));
      await s.read(1);
      b.send(Buffer.concat([cmd('MULTI'), cmd('PUBLISH', 'tx', '1'), cmd('PUBLISH', 'tx', '2'), cmd('EXEC')]));
      assert.equal((await b.read(4)).toString('latin1'), '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n:1\r\n');
      assert.equal(
        (await s.read(2)).toString('latin1'),
        '*3\r\n$7\r\nmessage\r\n$2\r\ntx\r\n$1\r\n1\r\n*3\r\n$7\r\nmessage\r\n$2\r\ntx\r\n$1\r\n2\r\n',
      );
      s.close();
    } finally {
      b.close();
    }
  });
});
