// Monitoring endpoints: field names as nats-server's, enough for the nats.js test harness
// (specs/nats.md §8: /varz server_id, version, connect_urls; /connz subscriptions_list).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect } from 'nats';
import { Server } from '../../src/index.js';

let server: Server;
before(async () => {
  server = await Server.start({ port: 0, httpPort: 0, jetstream: false, logLevel: 'silent' });
});
after(async () => {
  await server.close();
});

const get = async (path: string) => {
  const r = await fetch(`${server.monitorUrl}${path}`);
  return { status: r.status, body: r.status === 200 ? ((await r.json()) as Record<string, unknown>) : null };
};

test('/healthz and unknown paths', async () => {
  assert.deepEqual((await get('/healthz')).body, { status: 'ok' });
  assert.equal((await get('/nope')).status, 404);
});

test('/varz reports identity, limits and counters', async () => {
  const nc = await connect({ servers: server.url });
  nc.publish('v.t', 'x');
  await nc.flush();
  const { body } = await get('/varz');
  assert.ok(body);
  assert.equal(body.server_id, server.serverId);
  assert.match(String(body.version), /^2\.10\./);
  assert.deepEqual(body.connect_urls, []);
  assert.equal(body.port, server.port);
  assert.equal(body.max_payload, 1048576);
  assert.equal(body.max_pending, 64 * 1024 * 1024);
  assert.equal(body.connections, 1);
  assert.ok((body.in_msgs as number) >= 1);
  for (const k of [
    'ping_interval',
    'write_deadline',
    'start',
    'now',
    'uptime',
    'mem',
    'cores',
    'slow_consumers',
    'subscriptions',
  ])
    assert.ok(k in body, k);
  await nc.close();
});

test('/connz lists connections with subscriptions', async () => {
  const nc = await connect({ servers: server.url, name: 'monitor-test' });
  nc.subscribe('c.one');
  nc.subscribe('c.two', { queue: 'g' });
  await nc.flush();
  const { body } = await get('/connz?subs=1');
  const conns = body!.connections as { name?: string; subscriptions_list?: string[]; subscriptions: number }[];
  const mine = conns.find((c) => c.name === 'monitor-test');
  assert.ok(mine);
  assert.deepEqual(mine.subscriptions_list?.sort(), ['c.one', 'c.two']);
  const detail = await get('/connz?subs=detail');
  const d = (
    detail.body!.connections as { name?: string; subscriptions_list_detail?: { subject: string; qgroup?: string }[] }[]
  ).find((c) => c.name === 'monitor-test');
  assert.equal(d?.subscriptions_list_detail?.find((s) => s.subject === 'c.two')?.qgroup, 'g');
  await nc.close();
});

test('/subsz counts subscriptions', async () => {
  const nc = await connect({ servers: server.url });
  nc.subscribe('s.a');
  await nc.flush();
  const { body } = await get('/subsz?subs=1');
  assert.ok((body!.num_subscriptions as number) >= 1);
  assert.ok((body!.subscriptions_list as { subject: string }[]).some((s) => s.subject === 's.a'));
  await nc.close();
});

test('a malformed request target gets a 400 and the server keeps serving', async () => {
  const url = new URL(server.monitorUrl!);
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(Number(url.port), url.hostname);
    let data = '';
    sock.on('data', (d) => (data += d));
    sock.on('close', () => resolve(data));
    sock.on('error', reject);
    sock.write('GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  assert.deepEqual((await get('/healthz')).body, { status: 'ok' });
});
