/**
 * Fuzzing of the Redis door (DESIGN.md "Errors": bad input never crashes the process and never
 * affects other connections), in the house style of test/nats/fuzz.test.ts.
 *
 * - Parser: random and mutated bytes never make `RespParser.parse` throw, and any input parses to
 *   the same commands and error whether it arrives whole or split at random points.
 * - Network: connections to one herald send mutated valid scripts and random bytes while a
 *   bystander ioredis pair does a publish/subscribe round trip every so often; afterwards the
 *   bystanders still work and no fuzzing connection or subscription is left behind.
 *
 * Deterministic: a seeded PRNG (FUZZ_SEED overrides it; failures print it). Bounded: fixed case
 * counts, a time budget for the network part, bounded waits.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Redis } from 'ioredis';
import type { Server } from '../../src/index.js';
import { RespParser, RespParseError } from '../../src/resp/parser.js';
import { cmd, startHerald } from './helpers.js';
import { Rng } from '../helpers/rng.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed2) >>> 0;
const PARSER_RANDOM = 3000;
const PARSER_SPLIT = 3000;
const NET_CASES = 1500;
const NET_CONCURRENCY = 16;
/** The network part stops early (and says so) past this budget. */
const NET_BUDGET_MS = 10_000;
const HEALTH_EVERY = 200;

const VALID: Buffer[] = [
  cmd('PING'),
  cmd('ECHO', 'hello'),
  cmd('SUBSCRIBE', 'a', 'b'),
  cmd('PSUBSCRIBE', 'a*', 'h[ae]llo'),
  cmd('PUBLISH', 'a', 'payload'),
  cmd('UNSUBSCRIBE'),
  cmd('HELLO', '3'),
  cmd('HELLO', '2'),
  cmd('CLIENT', 'SETNAME', 'x'),
  cmd('CONFIG', 'GET', '*'),
  cmd('SELECT', '3'),
  cmd('INFO'),
  cmd('RESET'),
  cmd('PUBSUB', 'NUMSUB', 'a'),
  cmd('COMMAND', 'DOCS'),
  Buffer.from('PING\r\n'),
  Buffer.from('ECHO "a\\x41" \'b\'\r\n'),
  Buffer.from('*0\r\n'),
];

function script(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + rng.int(6);
  for (let i = 0; i < n; i++) parts.push(rng.pick(VALID));
  return Buffer.concat(parts);
}

function mutate(rng: Rng, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const k = 1 + rng.int(4);
  let cur = out;
  for (let i = 0; i < k; i++) {
    switch (rng.int(6)) {
      case 0: // bit flip
        if (cur.length > 0) cur[rng.int(cur.length)] ^= 1 << rng.int(8);
        break;
      case 1: // byte substitution with a protocol character
        if (cur.length > 0) cur[rng.int(cur.length)] = rng.pick([0x2a, 0x24, 0x0d, 0x0a, 0x22, 0x27, 0x2d, 0x30, 0x39, 0x20, 0]);
        break;
      case 2: // truncation
        cur = cur.subarray(0, rng.int(cur.length + 1));
        break;
      case 3: // duplication of a slice
        {
          const a = rng.int(cur.length + 1);
          const e = a + rng.int(cur.length - a + 1);
          cur = Buffer.concat([cur.subarray(0, e), cur.subarray(a, e), cur.subarray(e)]);
        }
        break;
      case 4: // deletion
        {
          const a = rng.int(cur.length + 1);
          cur = Buffer.concat([cur.subarray(0, a), cur.subarray(a + rng.int(8))]);
        }
        break;
      default: // number mangling
        cur = Buffer.from(
          cur.toString('latin1').replace(/\d+/, () => rng.pick(['-1', '0', '99999999999', '', '1'])),
          'latin1',
        );
    }
  }
  return cur;
}

/** Parses `chunks` in order; returns the commands seen and the error. */
function parseAll(chunks: Buffer[]): { cmds: string[]; err: RespParseError } {
  const cmds: string[] = [];
  const p = new RespParser({ onCommand: (argv) => void cmds.push(JSON.stringify(argv.map((a) => a.toString('latin1')))) });
  let err = RespParseError.None;
  for (const c of chunks) {
    err = p.parse(c);
    if (err !== RespParseError.None) break;
  }
  return { cmds, err };
}

function splitAt(rng: Rng, b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const n = 1 + rng.int(Math.max(1, b.length - i));
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

describe(`Redis door fuzz (seed ${SEED}; FUZZ_SEED=${SEED} to replay)`, () => {
  test('parser: random bytes never throw', () => {
    const rng = new Rng(SEED);
    for (let i = 0; i < PARSER_RANDOM; i++) {
      const input = rng.bytes(rng.int(200));
      assert.doesNotThrow(() => parseAll([input]), `case ${i}`);
    }
  });

  test('parser: valid and mutated input parse the same whole or split', () => {
    const rng = new Rng(SEED + 1);
    for (let i = 0; i < PARSER_SPLIT; i++) {
      const input = rng.int(2) === 0 ? script(rng) : mutate(rng, script(rng));
      const whole = parseAll([input]);
      const split = parseAll(splitAt(rng, input));
      assert.deepEqual(split, whole, `case ${i}: ${JSON.stringify(input.toString('latin1'))}`);
    }
  });

  describe('network', () => {
    let server: Server;
    let pub: Redis;
    let sub: Redis;
    let received = 0;
    before(async () => {
      server = await startHerald();
      const port = server.redis!.port;
      pub = new Redis({ port, host: '127.0.0.1' });
      sub = new Redis({ port, host: '127.0.0.1' });
      sub.on('message', () => received++);
      await sub.subscribe('bystander');
    });
    after(async () => {
      pub?.disconnect();
      sub?.disconnect();
      await server?.close();
    });

    async function health(): Promise<void> {
      const want = received + 1;
      assert.equal(await pub.publish('bystander', 'ping'), 1, 'the bystander subscriber is still there');
      const deadline = Date.now() + 5000;
      while (received < want) {
        assert.ok(Date.now() < deadline, 'the bystander message never arrived');
        await new Promise((r) => setTimeout(r, 5));
      }
    }

    function fuzzOne(port: number, data: Buffer): Promise<void> {
      return new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        const done = (): void => {
          clearTimeout(t);
          s.destroy();
          resolve();
        };
        const t = setTimeout(done, 200);
        s.on('error', done);
        s.on('close', done);
        s.on('data', () => undefined);
        s.on('connect', () => s.write(data, () => setTimeout(done, 5)));
      });
    }

    test('mutated scripts and random bytes never disturb a bystander connection', async () => {
      const rng = new Rng(SEED + 2);
      const port = server.redis!.port;
      const start = Date.now();
      let i = 0;
      while (i < NET_CASES) {
        if (Date.now() - start > NET_BUDGET_MS) {
          console.log(`# network fuzz stopped at the time budget after ${i} cases`);
          break;
        }
        const batch: Promise<void>[] = [];
        for (let k = 0; k < NET_CONCURRENCY && i < NET_CASES; k++, i++) {
          const data = rng.int(4) === 0 ? rng.bytes(1 + rng.int(300)) : mutate(rng, script(rng));
          batch.push(fuzzOne(port, data));
        }
        await Promise.all(batch);
        if (i % HEALTH_EVERY < NET_CONCURRENCY) await health();
      }
      await health();
      const door = server.redis!;
      const deadline = Date.now() + 5000;
      while (door.connections.size > 2) {
        assert.ok(Date.now() < deadline, `${door.connections.size - 2} fuzz connections left open`);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual([...door.channelSubs.keys()], ['bystander'], 'no fuzz subscription is left');
      assert.equal(door.patternSubs.size, 0);
    });
  });
});
