/**
 * The Redis door's counters: INFO `stats` and `errorstats` as Redis 7.0 names them (commands,
 * connections, error replies per code, Pub/Sub channel/pattern/shard counts), CONFIG RESETSTAT,
 * and the same numbers in /varz under `redis`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, silentLogger } from '../../src/index.js';
import { RawResp, cmd } from './helpers.js';

/** INFO's `key:value` lines as a record. */
function fields(info: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of info.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

test('INFO stats/errorstats count commands and errors by code; CONFIG RESETSTAT; /varz redis', async () => {
  const server = await Server.start({ port: 0, httpPort: 0, redisPort: 0, jetstream: false, logger: silentLogger() });
  const c = await RawResp.connect(server.redis!.port);
  const sub = await RawResp.connect(server.redis!.port);
  try {
    const info = async (): Promise<Record<string, string>> => {
      c.send(cmd('INFO', 'stats', 'errorstats'));
      return fields((await c.read(1)).toString('latin1'));
    };
    c.send(cmd('CONFIG', 'RESETSTAT'));
    await c.read(1);
    sub.send(Buffer.concat([cmd('SUBSCRIBE', 'a', 'b'), cmd('PSUBSCRIBE', 'p*'), cmd('SSUBSCRIBE', 's')]));
    await sub.read(4);
    // Run: PING, MULTI, EXEC (refused by itself: EXECABORT); rejected: NOSUCH, ECHO (not counted).
    // Errors: unknown (ERR), arity (ERR), EXECABORT.
    c.send(Buffer.concat([cmd('PING'), cmd('NOSUCH'), cmd('MULTI'), cmd('ECHO'), cmd('PING'), cmd('EXEC')]));
    await c.read(6);
    const s = await info();
    // As redis-server 7.0 (server.c call): RESETSTAT, SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, PING, MULTI, EXEC.
    assert.equal(s.total_commands_processed, '7');
    assert.equal(s.total_error_replies, '3');
    assert.equal(s.errorstat_ERR, 'count=2');
    assert.equal(s.errorstat_EXECABORT, 'count=1');
    assert.equal(s.pubsub_channels, '2');
    assert.equal(s.pubsub_patterns, '1');
    assert.equal(s.pubsubshard_channels, '1');
    assert.equal(s.total_connections_received, '0', 'connections counted since RESETSTAT');
    assert.equal(s.client_output_buffer_limit_disconnections, '0');

    const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as { redis: Record<string, number> };
    assert.equal(varz.redis.port, server.redis!.port);
    assert.equal(varz.redis.total_error_replies, 3);
    assert.equal(varz.redis.pubsub_channels, 2);
    assert.equal(varz.redis.pubsubshard_channels, 1);
    assert.equal(varz.redis.connected_clients, 2);
    assert.equal(varz.redis.pubsub_clients, 1);

    c.send(cmd('CONFIG', 'RESETSTAT'));
    await c.read(1);
    const r = await info();
    assert.equal(r.total_error_replies, '0');
    assert.equal(r.errorstat_ERR, undefined, 'errorstats cleared');
    assert.equal(r.pubsub_channels, '2', 'live counts are not statistics');
  } finally {
    c.close();
    sub.close();
    await server.close();
  }
});
