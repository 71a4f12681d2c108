// A login flood with bcrypt passwords must not stall other clients: the compare runs on a worker
// thread and the connection's later commands wait for the verdict (src/core/bcrypt-pool.ts).
// The bystander's round-trip times are printed, never asserted (the machine is shared); what is
// asserted is that every one of its flushes was answered and its messages arrived in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { bcryptHash, startHerald } from './helpers.js';
import { RawConnection } from '../helpers/raw.js';

/** nats-server's own default for `nats server passwd` is 11; 10 is what people commonly ship. */
const COST = 10;
const USERS = 10;
const LOGINS_PER_USER = 5;
/** The bystander's publish+flush round trips while the flood runs. */
const BYSTANDER_ROUNDS = 200;

test('50 bcrypt logins at cost 10 leave a bystander answered in order; wrong passwords still get Authorization Violation', async () => {
  const users = Array.from({ length: USERS }, (_, i) => ({ user: `u${i}`, pass: `pw-${i}` }));
  const conf = `authorization {
  timeout: 30
  users = [
${users.map((u) => `    { user: ${u.user}, password: "${bcryptHash(u.pass, COST)}" }`).join('\n')}
  ]
}`;
  const t = await startHerald(conf);
  const flood: NatsConnection[] = [];
  try {
    const bystander = await connect({ servers: t.url, user: 'u0', pass: 'pw-0' });
    const got: number[] = [];
    const sub = bystander.subscribe('by.stander');
    void (async () => {
      for await (const m of sub) got.push(Number(m.string()));
    })();
    await bystander.flush();

    let floodDone = false;
    const floodP = Promise.all(
      users.flatMap((u) =>
        Array.from({ length: LOGINS_PER_USER }, async () => {
          flood.push(await connect({ servers: t.url, user: u.user, pass: u.pass, timeout: 60_000 }));
        }),
      ),
    ).finally(() => (floodDone = true));

    const rtts: number[] = [];
    let duringFlood = 0;
    for (let i = 0; i < BYSTANDER_ROUNDS; i++) {
      bystander.publish('by.stander', String(i));
      const t0 = performance.now();
      await bystander.flush();
      rtts.push(performance.now() - t0);
      if (!floodDone) duringFlood++;
    }
    await floodP;
    await bystander.flush();
    assert.equal(flood.length, USERS * LOGINS_PER_USER, 'every flood client logged in');
    assert.equal(rtts.length, BYSTANDER_ROUNDS, 'every bystander flush (PING) was answered');
    assert.deepEqual(got, Array.from({ length: BYSTANDER_ROUNDS }, (_, i) => i), 'bystander messages arrive in order');
    const sorted = [...rtts].sort((a, b) => a - b);
    console.log(
      `# bystander flush RTT over ${BYSTANDER_ROUNDS} rounds (${duringFlood} while ${USERS * LOGINS_PER_USER} clients logged in at cost ${COST}): ` +
        `median ${sorted[sorted.length >> 1]!.toFixed(1)} ms, p99 ${sorted[Math.floor(sorted.length * 0.99)]!.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`,
    );

    // A wrong bcrypt password: nats-server's text, then the connection closes.
    const raw = await RawConnection.connect(t.port);
    raw.write('CONNECT {"verbose":false,"pedantic":false,"user":"u1","pass":"nope"}\r\nPING\r\n');
    assert.ok(await raw.waitFor(() => false, 20_000) === false && raw.closed, 'a wrong password closes the connection within 20 s');
    const text = raw.data.toString().replace(/^INFO .*\r\n/, '');
    raw.destroy();
    assert.match(text, /-ERR 'Authorization Violation'\r\n$/);
    assert.doesNotMatch(text, /PONG/, 'nothing after CONNECT runs before a failed verdict');
    // A right one with commands pipelined behind CONNECT: they run after the verdict, in order.
    const raw2 = await RawConnection.connect(t.port);
    raw2.write('CONNECT {"verbose":true,"pedantic":false,"user":"u2","pass":"pw-2"}\r\nSUB a 1\r\nPUB a 2\r\nhi\r\nPING\r\n');
    assert.ok(await raw2.waitFor((d) => d.includes('PONG\r\n'), 20_000), 'PONG after a pipelined CONNECT within 20 s');
    assert.match(raw2.data.toString(), /\+OK\r\n\+OK\r\n\+OK\r\nMSG a 1 2\r\nhi\r\nPONG\r\n$/);
    raw2.destroy();
    await bystander.close();
  } finally {
    await Promise.all(flood.map((c) => c.close()));
    await t.stop();
  }
});
