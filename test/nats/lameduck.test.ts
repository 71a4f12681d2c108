// Lame-duck mode (nats-server server.go lameDuckMode): stop accepting, tell clients with an INFO
// carrying "ldm": true (nats v2 and v3 surface it as an `ldm` status event), wait the grace
// period, close clients one by one, then shut down. Embedded (Server.enterLameDuckMode) and as a
// child process through SIGUSR2 and `herald lame-duck --pid`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import * as v2 from 'nats';
import { connect as connectV3 } from '@nats-io/transport-node';
import { Server } from '../../src/index.js';
import { silentLogger } from '../../src/core/log.js';
import { startHeraldChild } from '../helpers/herald-child.js';
import { within } from '../helpers/bounded.js';
import { connectionRefused } from '../helpers/raw.js';

/** Bound on each wait for the server's reaction. */
const WAIT_MS = 30_000;

/** Resolves when `it` yields a status of type `ldm`. */
async function seesLdm(it: AsyncIterable<{ type: string }>): Promise<void> {
  for await (const s of it) if (s.type === 'ldm') return;
  throw new Error('status stream ended without an ldm event');
}


test('embedded: nats v2 and v3 clients see ldm, new connections are refused, clients are closed, then the server stops', async () => {
  const server = await Server.start({
    port: 0,
    jetstream: false,
    logger: silentLogger(),
    lameDuckDurationMs: 1500,
    lameDuckGracePeriodMs: 200,
  });
  const a = await v2.connect({ servers: server.url, reconnect: false });
  const b = await connectV3({ servers: server.url, reconnect: false });
  const ldmA = seesLdm(a.status() as AsyncIterable<{ type: string }>);
  const ldmB = seesLdm(b.status() as AsyncIterable<{ type: string }>);
  await Promise.all([a.flush(), b.flush()]);
  const done = server.enterLameDuckMode();
  assert.equal(server.inLameDuckMode, true);
  await within(Promise.all([ldmA, ldmB]), WAIT_MS, 'both clients see the ldm status');
  assert.equal(await connectionRefused(server.port), true, 'a new connection is refused in lame-duck mode');
  await within(Promise.all([a.closed(), b.closed()]), WAIT_MS, 'both clients are closed by the server');
  await within(done, WAIT_MS, 'lame-duck mode ends with the server closed');
});

test('child: SIGUSR2 (and herald lame-duck --pid) drains and exits 0; SIGTERM during it is ignored', async () => {
  const h = await startHeraldChild('lame_duck_duration: "30s"\nlame_duck_grace_period: "300ms"');
  try {
    const nc = await connectV3({ servers: h.url, reconnect: false });
    const ldm = seesLdm(nc.status() as AsyncIterable<{ type: string }>);
    await nc.flush();
    const herald = resolve(import.meta.dirname, '../../../bin/herald.js');
    const sender = spawn(process.execPath, [herald, 'lame-duck', '--pid', String(h.pid)], { stdio: 'ignore' });
    assert.equal(await new Promise((r) => sender.once('exit', r)), 0, 'herald lame-duck --pid exits 0');
    await within(ldm, WAIT_MS, 'the client sees ldm');
    process.kill(h.pid, 'SIGTERM');
    await h.waitLog(/during lame duck mode: ignored/, WAIT_MS, 'SIGTERM ignored during lame duck');
    await within(nc.closed(), WAIT_MS, 'the client is closed');
    assert.equal(await within(h.exited, WAIT_MS, 'the process exits'), 0);
    assert.match(h.stderr(), /Entering lame duck mode/);
    assert.match(h.stderr(), /herald stopped/);
  } finally {
    await h.stop();
  }
});
