// TLS by flags alone (`--tls --tlscert --tlskey`) raises the auth timeout to the TLS timeout + 1 s
// when nothing set it, as nats-server's setBaselineOptions → getDefaultAuthTimeout does (a conf
// `tls {}` block already did in herald). /varz `auth_timeout` is compared with nats-server 2.9.10
// started with the same flags and conf.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startHeraldChild } from '../helpers/herald-child.js';
import { freePort, natsServerAvailable, startNatsServer } from '../helpers/nats-server.js';
import { writeConf } from './helpers.js';
import { makeTestCerts } from './tls-certs.js';
import { within } from '../helpers/bounded.js';

const WAIT_MS = 15_000;

async function varz(port: number): Promise<{ auth_timeout: unknown; tls_timeout: unknown }> {
  const v = (await (await within(fetch(`http://127.0.0.1:${port}/varz`), WAIT_MS, 'GET /varz')).json()) as Record<string, unknown>;
  return { auth_timeout: v.auth_timeout, tls_timeout: v.tls_timeout };
}

async function heraldVarz(conf: string, flags: string[]): Promise<{ auth_timeout: unknown; tls_timeout: unknown }> {
  const m = await freePort();
  const h = await startHeraldChild(conf, [...flags, '-m', String(m)]);
  try {
    return await varz(m);
  } finally {
    await h.stop();
  }
}

async function natsVarz(conf: string, flags: string[]): Promise<{ auth_timeout: unknown; tls_timeout: unknown }> {
  const m = await freePort();
  const { file, dir } = writeConf(conf);
  try {
    const n = await startNatsServer({ args: ['-c', file, ...flags, '-m', String(m)] });
    try {
      return await varz(m);
    } finally {
      await n.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('TLS flags alone: auth_timeout is the TLS timeout + 1 s; a conf auth timeout wins; same as nats-server', async (t) => {
  const certs = makeTestCerts();
  const flags = ['--tls', '--tlscert', certs.server.cert, '--tlskey', certs.server.key];
  const cases: [string, string, { auth_timeout: number; tls_timeout: number }][] = [
    ['flags only', '', { auth_timeout: 3, tls_timeout: 2 }],
    ['flags and authorization { timeout: 5 }', 'authorization { timeout: 5 }', { auth_timeout: 5, tls_timeout: 2 }],
  ];
  for (const [name, conf, want] of cases) {
    const h = await heraldVarz(conf, flags);
    assert.deepEqual(h, want, `herald, ${name}`);
    if (natsServerAvailable()) assert.deepEqual(await natsVarz(conf, flags), h, `nats-server, ${name}`);
    else t.diagnostic('nats-server is not installed: herald checked against the expected values only');
  }
});
