// Monitoring values that used to be constants: /varz cpu, /connz rtt, /jsz account reservations,
// and the Go duration format nats-server prints them in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { Server, silentLogger } from '../../src/index.js';
import { CPU_WINDOW_MS, CpuSampler } from '../../src/http/cpu.js';
import { goDurationString } from '../../src/http/endpoints.js';

test('goDurationString prints as Go time.Duration.String', () => {
  assert.equal(goDurationString(0), '0s');
  assert.equal(goDurationString(850), '850ns');
  assert.equal(goDurationString(523_000), '523µs');
  assert.equal(goDurationString(1_500), '1.5µs');
  assert.equal(goDurationString(1_234_567), '1.234567ms');
  assert.equal(goDurationString(2_500_000_000), '2.5s');
  assert.equal(goDurationString(62_500_000_000), '1m2.5s');
  assert.equal(goDurationString(3_600_000_000_000), '1h0m0s');
});

test('CpuSampler reports the CPU used over the last window as a percentage of one core', () => {
  const s = new CpuSampler();
  // Burn CPU for a little more than one window: the closed window was spent almost entirely on CPU.
  const until = performance.now() + CPU_WINDOW_MS + 50;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const pct = s.percent();
  assert.ok(pct > 10 && pct < 100 * os.cpus().length + 1, `busy window read as ${pct}%`);
});

test('/varz cpu is a number and /connz rtt is measured', async () => {
  const server = await Server.start({ port: 0, httpPort: 0, jetstream: false, logger: silentLogger() });
  try {
    const nc = await connect({ servers: server.url, name: 'rtt' });
    await nc.flush();
    const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as Record<string, unknown>;
    assert.equal(typeof varz.cpu, 'number');
    const connz = (await (await fetch(`${server.monitorUrl}/connz`)).json()) as {
      connections: { name?: string; rtt?: string }[];
    };
    const c = connz.connections.find((x) => x.name === 'rtt');
    assert.ok(c?.rtt !== undefined && c.rtt !== '0s', `rtt ${c?.rtt}`);
    assert.match(c.rtt, /^\d+(\.\d+)?(ns|µs|ms|s)$/);
    await nc.close();
  } finally {
    await server.close();
  }
});

test('/jsz account_details reserves what the top level does', async () => {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'herald-jsz-'));
  const server = await Server.start({ port: 0, httpPort: 0, dataDir, logger: silentLogger() });
  try {
    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'F', subjects: ['f.>'], max_bytes: 1_000_000 });
    await jsm.streams.add({ name: 'M', subjects: ['m.>'], max_bytes: 2_000, storage: StorageType.Memory });
    const jsz = (await (await fetch(`${server.monitorUrl}/jsz?accounts=1`)).json()) as Record<string, unknown> & {
      account_details: Record<string, unknown>[];
    };
    assert.equal(jsz.reserved_storage, 1_000_000);
    assert.equal(jsz.reserved_memory, 2_000);
    assert.equal(jsz.account_details[0].reserved_storage, 1_000_000);
    assert.equal(jsz.account_details[0].reserved_memory, 2_000);
    await nc.close();
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
