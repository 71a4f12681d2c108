/**
 * Fuzzing of the NATS door (DESIGN.md "Errors": bad input never crashes the process and never
 * affects other connections).
 *
 * - Network: thousands of connections to one herald server send mutated valid scripts (bit flips,
 *   byte substitutions, truncation, duplication, deletion, splicing, number mangling, random
 *   chunk splits) and pure random bytes. Throughout, a separate well-behaved connection does a
 *   pub/sub round trip (checked periodically and at the end), new connections are still greeted,
 *   and afterwards no connection or subscription of the fuzzers is left behind.
 * - Parser: random and mutated bytes never make `Parser.parse` throw, and any input parses to the
 *   same ops and error whether it arrives whole or split at random points.
 *
 * Deterministic: a seeded PRNG (FUZZ_SEED overrides the seed; failures print it). Bounded: fixed
 * case counts, a time budget for the network part, and bounded waits.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from '../../src/index.js';
import { Parser, type ParserHandler } from '../../src/nats/parser.js';
import { RawConnection, rawBlast, type Chunk } from '../helpers/raw.js';
import { Rng } from '../helpers/rng.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1) >>> 0;
/** Network cases: mutated valid scripts, then pure random bytes. */
const NET_MUTATED = 3000;
const NET_RANDOM = 1000;
/** Connections fuzzing at once. */
const NET_CONCURRENCY = 32;
/**
 * The network part must run every case; past this it fails (naming how many ran) instead of
 * passing on a fraction. A quiet 2-core machine runs all 4,000 in about 2 s, a loaded one in < 5 s.
 */
const NET_DEADLINE_MS = 60_000;
/** Health round trips: one every this many network cases, plus one at the end. */
const HEALTH_EVERY = 250;
/** Parser cases. */
const PARSER_RANDOM = 5000;
const PARSER_VALID_SPLIT = 3000;
const PARSER_MUTATED_SPLIT = 3000;

// ---- deterministic randomness ----

// ---- valid scripts ----

const SUBJECTS = [
  'foo',
  'foo.bar',
  'a.b.c',
  'foo.*',
  'foo.>',
  '>',
  '*',
  '_INBOX.x.*',
  '_INBOX.x.1',
  'föö.ü',
  '$JS.API.INFO',
  'x',
];
const REPLIES = ['', '', 'bar', '_INBOX.x.1', '_INBOX.x.2'];
const HEADER_BLOCKS = ['NATS/1.0\r\n\r\n', 'NATS/1.0\r\nA: 1\r\nB: two\r\n\r\n', 'NATS/1.0 503\r\n\r\n'];
const CONNECTS = [
  '{"verbose":false,"pedantic":false,"headers":true,"no_responders":true}',
  '{"verbose":true,"pedantic":true}',
  '{"verbose":false,"echo":false,"headers":true}',
  '{}',
  'null',
];

function randomCase(r: Rng, verb: string): string {
  return r.int(4) === 0 ? [...verb].map((c) => (r.int(2) === 0 ? c.toLowerCase() : c)).join('') : verb;
}
const sep = (r: Rng): string => r.pick([' ', ' ', ' ', '\t', '  ', ' \t ']);
const eol = (r: Rng): string => (r.int(8) === 0 ? '\n' : '\r\n');

function randomPayload(r: Rng): Buffer {
  const n = r.pick([0, 0, 1, 2, 5, 16, 100, 1000]);
  const b = r.bytes(n);
  // Sprinkle line ends and op-like bytes into payloads.
  for (let i = 0; i < n; i++) if (r.int(8) === 0) b[i] = r.pick([0x0d, 0x0a, 0x20, 0x50]);
  return b;
}

/** One valid client op as bytes. */
function randomOp(r: Rng): Buffer {
  const s = (x: string): Buffer => Buffer.from(x, 'utf8');
  switch (r.int(10)) {
    case 0:
      return s(`${randomCase(r, 'CONNECT')}${sep(r)}${r.pick(CONNECTS)}${eol(r)}`);
    case 1:
    case 2: {
      const p = randomPayload(r);
      const reply = r.pick(REPLIES);
      return Buffer.concat([
        s(
          `${randomCase(r, 'PUB')}${sep(r)}${r.pick(SUBJECTS)}${reply === '' ? '' : sep(r) + reply}${sep(r)}${p.length}${eol(r)}`,
        ),
        p,
        s('\r\n'),
      ]);
    }
    case 3: {
      const h = s(r.pick(HEADER_BLOCKS));
      const p = randomPayload(r);
      const reply = r.pick(REPLIES);
      return Buffer.concat([
        s(
          `${randomCase(r, 'HPUB')}${sep(r)}${r.pick(SUBJECTS)}${reply === '' ? '' : sep(r) + reply}${sep(r)}${h.length}${sep(r)}${h.length + p.length}${eol(r)}`,
        ),
        h,
        p,
        s('\r\n'),
      ]);
    }
    case 4:
    case 5:
      return s(
        `${randomCase(r, 'SUB')}${sep(r)}${r.pick(SUBJECTS)}${r.int(3) === 0 ? sep(r) + r.pick(['q', 'workers']) : ''}${sep(r)}${r.int(20)}${eol(r)}`,
      );
    case 6:
      return s(`${randomCase(r, 'UNSUB')}${sep(r)}${r.int(20)}${r.int(2) === 0 ? sep(r) + r.int(5) : ''}${eol(r)}`);
    case 7:
      return s(`${randomCase(r, r.pick(['PING', 'PONG']))}${eol(r)}`);
    case 8:
      return s(`${r.pick(['+OK', 'INFO {}', 'INFO {"a":[1]}'])}${eol(r)}`);
    default:
      return s(`PING${eol(r)}`);
  }
}

/** A valid script of 1–12 ops. */
function randomScript(r: Rng, withConnect: boolean): Buffer {
  const parts: Buffer[] = [];
  if (withConnect) parts.push(Buffer.from(`CONNECT ${r.pick(CONNECTS)}\r\n`));
  const n = 1 + r.int(12);
  for (let i = 0; i < n; i++) parts.push(randomOp(r));
  return Buffer.concat(parts);
}

// ---- mutations ----

const INTERESTING_BYTES = [0x0d, 0x0a, 0x20, 0x09, 0x00, 0xff, 0x2e, 0x2a, 0x3e, 0x30, 0x39, 0x2d, 0x2b, 0x7b, 0x22];
const INTERESTING_NUMBERS = [
  '0',
  '1',
  '9',
  '4096',
  '4097',
  '1048576',
  '1048577',
  '999999999',
  '0000000001',
  '-1',
  '18446744073709551616',
  '',
];

/** Applies 1–4 random mutations to a copy of `b`. */
function mutate(r: Rng, b: Buffer, other: () => Buffer): Buffer {
  let out = Buffer.from(b);
  const rounds = 1 + r.int(4);
  for (let k = 0; k < rounds; k++) {
    const n = out.length;
    const at = n === 0 ? 0 : r.int(n);
    switch (r.int(9)) {
      case 0: // bit flips
        if (n > 0) for (let f = 1 + r.int(8); f > 0; f--) out[r.int(n)] ^= 1 << r.int(8);
        break;
      case 1: // interesting byte
        if (n > 0) out[at] = r.pick(INTERESTING_BYTES);
        break;
      case 2: // truncation
        out = out.subarray(0, at);
        break;
      case 3: {
        // duplicate a slice in place
        const end = Math.min(n, at + 1 + r.int(64));
        out = Buffer.concat([out.subarray(0, end), out.subarray(at, end), out.subarray(end)]);
        break;
      }
      case 4: {
        // delete a slice
        const end = Math.min(n, at + 1 + r.int(16));
        out = Buffer.concat([out.subarray(0, at), out.subarray(end)]);
        break;
      }
      case 5: // insert random bytes
        out = Buffer.concat([out.subarray(0, at), r.bytes(1 + r.int(16)), out.subarray(at)]);
        break;
      case 6: {
        // splice with another script
        const o = other();
        out = Buffer.concat([out.subarray(0, at), o.subarray(r.int(o.length + 1))]);
        break;
      }
      case 7: {
        // replace a run of digits with an interesting number
        const text = out.toString('latin1');
        const runs = [...text.matchAll(/\d+/g)];
        if (runs.length > 0) {
          const m = r.pick(runs);
          const start = m.index ?? 0;
          out = Buffer.concat([
            out.subarray(0, start),
            Buffer.from(r.pick(INTERESTING_NUMBERS)),
            out.subarray(start + m[0].length),
          ]);
        }
        break;
      }
      default: // repeat the whole script
        out = Buffer.concat([out, out]);
    }
    if (out.length > 64 * 1024) out = out.subarray(0, 64 * 1024);
  }
  return out;
}

/** Splits `b` at 0–6 random points (empty chunks dropped). */
function randomSplit(r: Rng, b: Buffer): Buffer[] {
  const cuts = new Set<number>();
  const k = r.int(7);
  for (let i = 0; i < k && b.length > 1; i++) cuts.add(1 + r.int(b.length - 1));
  const points = [0, ...[...cuts].sort((x, y) => x - y), b.length];
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < points.length; i++) if (points[i + 1] > points[i]) out.push(b.subarray(points[i], points[i + 1]));
  return out;
}

/** Random bytes, sometimes from the protocol's own alphabet. */
function randomBytes(r: Rng): Buffer {
  const n = 1 + r.int(512);
  if (r.int(2) === 0) return r.bytes(n);
  const alphabet = [
    'PUB ',
    'HPUB ',
    'SUB ',
    'UNSUB ',
    'PING',
    'PONG',
    'CONNECT ',
    'INFO ',
    '+OK',
    '-ERR ',
    '\r\n',
    '\n',
    ' ',
    '\t',
    '0',
    '1',
    '5',
    'foo',
    '.',
    '*',
    '>',
    '{}',
    '"',
  ];
  let s = '';
  while (s.length < n) s += r.pick(alphabet);
  return Buffer.from(s, 'latin1');
}

// ---- the parser, fuzzed directly ----

/** Records ops in comparable form; header support on, 1 MiB max payload. */
class Recorder implements ParserHandler {
  readonly ops: string[] = [];
  onConnect(json: string): void {
    this.ops.push(`CONNECT ${json}`);
  }
  onPub(subject: string, reply: string, headers: Buffer | null, payload: Buffer): void {
    this.ops.push(`PUB ${subject}|${reply}|${headers === null ? '-' : headers.toString('hex')}|${payload.toString('hex')}`);
  }
  headersAllowed(): boolean {
    return true;
  }
  onSub(subject: string, queue: string | null, sid: string): void {
    this.ops.push(`SUB ${subject}|${queue}|${sid}`);
  }
  onUnsub(sid: string, max: number): void {
    this.ops.push(`UNSUB ${sid}|${max}`);
  }
  onPing(): void {
    this.ops.push('PING');
  }
  onPong(): void {
    this.ops.push('PONG');
  }
  maxPayload(): number {
    return 1024 * 1024;
  }
}

/** Parses the chunks with a fresh parser (stopping at the first error); throws what parse throws. */
function parseAll(chunks: readonly Buffer[], maxControlLine = 4096): { ops: string[]; err: number } {
  const rec = new Recorder();
  const p = new Parser(rec, maxControlLine);
  let err = 0;
  for (const c of chunks) {
    err = p.parse(c);
    if (err !== 0) break;
  }
  return { ops: rec.ops, err };
}

const hex = (b: Buffer): string => (b.length > 512 ? b.subarray(0, 512).toString('hex') + '…' : b.toString('hex'));

describe(`NATS parser fuzz (seed ${SEED})`, () => {
  test(`${PARSER_RANDOM} random inputs never throw`, () => {
    const r = new Rng(SEED ^ 0x1111);
    for (let i = 0; i < PARSER_RANDOM; i++) {
      const input = randomBytes(r);
      const chunks = randomSplit(r, input);
      const mcl = r.pick([4096, 64, 8]);
      assert.doesNotThrow(() => parseAll(chunks, mcl), `case ${i}: ${hex(input)}`);
    }
  });

  test(`${PARSER_VALID_SPLIT} valid scripts parse the same whole and split`, () => {
    const r = new Rng(SEED ^ 0x2222);
    let ops = 0;
    for (let i = 0; i < PARSER_VALID_SPLIT; i++) {
      const script = randomScript(r, r.int(2) === 0);
      const whole = parseAll([script]);
      assert.equal(whole.err, 0, `case ${i}: a valid script failed to parse: ${hex(script)}`);
      const chunks = randomSplit(r, script);
      assert.deepEqual(parseAll(chunks), whole, `case ${i}: split at ${chunks.map((c) => c.length).join('+')}: ${hex(script)}`);
      ops += whole.ops.length;
    }
    assert.ok(ops > PARSER_VALID_SPLIT, 'the generator produced ops');
  });

  test(`${PARSER_MUTATED_SPLIT} mutated scripts parse the same whole and split, and never throw`, () => {
    const r = new Rng(SEED ^ 0x3333);
    const other = (): Buffer => randomScript(r, false);
    for (let i = 0; i < PARSER_MUTATED_SPLIT; i++) {
      const input = mutate(r, randomScript(r, r.int(2) === 0), other);
      const mcl = r.pick([4096, 4096, 32]);
      let whole: { ops: string[]; err: number } | undefined;
      assert.doesNotThrow(
        () => {
          whole = parseAll([input], mcl);
        },
        `case ${i}: ${hex(input)}`,
      );
      const chunks = randomSplit(r, input);
      assert.deepEqual(
        parseAll(chunks, mcl),
        whole,
        `case ${i}: split at ${chunks.map((c) => c.length).join('+')}: ${hex(input)}`,
      );
    }
  });
});

// ---- the server, fuzzed over TCP ----

describe(`NATS door network fuzz (seed ${SEED})`, () => {
  let server: Server;
  let healthy: RawConnection;
  let healthChecks = 0;
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => {
    uncaught.push(e);
  };

  /** One pub/sub round trip on the well-behaved connection, and a fresh connection's greeting. */
  async function checkHealth(): Promise<void> {
    const k = ++healthChecks;
    const payload = `health-${k}`;
    const expect = `MSG _health.check.${k} 1 ${payload.length}\r\n${payload}\r\n`;
    const before = healthy.data.length;
    healthy.write(`PUB _health.check.${k} ${payload.length}\r\n${payload}\r\nPING\r\n`);
    const ok = await healthy.waitFor((d) => {
      const seen = d.subarray(before).toString('latin1');
      const at = seen.indexOf(expect);
      return at >= 0 && seen.indexOf('PONG\r\n', at) > at;
    }, 5000);
    assert.ok(ok, `health check ${k}: no round trip (closed: ${healthy.closed})`);
    const fresh = await RawConnection.connect(server.port);
    try {
      const greeted = await fresh.waitFor((d) => d.includes('\r\n'), 5000);
      assert.ok(
        greeted && fresh.data.toString('latin1').startsWith('INFO {'),
        `health check ${k}: a new connection was not greeted`,
      );
    } finally {
      fresh.destroy();
    }
  }

  before(async () => {
    process.on('uncaughtException', onUncaught);
    server = await Server.start({ port: 0, jetstream: false, logLevel: 'silent' });
    healthy = await RawConnection.connect(server.port);
    assert.ok(await healthy.waitFor((d) => d.includes('\r\n'), 5000), 'no INFO');
    healthy.write('CONNECT {"verbose":false,"pedantic":false}\r\nSUB _health.check.* 1\r\nPING\r\n');
    assert.ok(await healthy.waitFor((d) => d.includes('PONG\r\n'), 5000), 'no PONG');
  });

  after(async () => {
    healthy?.destroy();
    await server?.close();
    process.off('uncaughtException', onUncaught);
  });

  test('ops after a fatal op in the same read are ignored (no subscription leaks)', async () => {
    // Each fatal op with what nats-server 2.9 answers after INFO (checked against it by hand): an
    // -ERR, or (bad JSON) a close without one. The INFO greeting alone must not satisfy this.
    const scripts: Array<[string, string]> = [
      ['CONNECT {"no_responders":true}\r\nSUB leak.1 1\r\n', "-ERR 'no responders requires headers support'\r\n"],
      ['CONNECT {bad\r\nSUB leak.2 2\r\n', ''],
      ['CONNECT {"protocol":2}\r\nSUB leak.3 3\r\n', "-ERR 'invalid client protocol'\r\n"],
      ['FOO\r\nSUB leak.4 4\r\n', "-ERR 'Unknown Protocol Operation'\r\n"],
    ];
    for (const [s, answer] of scripts) {
      const res = await rawBlast(server.port, [s], 2000);
      assert.match(res.head, /^INFO \{.*\} \r\n/, `${JSON.stringify(s)}: no INFO greeting`);
      assert.equal(res.head.slice(res.head.indexOf('\r\n') + 2), answer, JSON.stringify(s));
    }
    const settled = await waitUntil(() => server.door.connections.size === 1, 5000);
    assert.ok(settled, `${server.door.connections.size} connections left`);
    assert.equal(server.router.sublist.count, 1, 'only the health subscription remains');
  });

  test(
    `${NET_MUTATED} mutated scripts and ${NET_RANDOM} random byte streams: the server survives, others are unaffected`,
    { timeout: NET_DEADLINE_MS + 30_000 },
    async (t) => {
      const r = new Rng(SEED ^ 0x4444);
      const other = (): Buffer => randomScript(r, false);
      const total = NET_MUTATED + NET_RANDOM;
      const deadline = Date.now() + NET_DEADLINE_MS;
      let next = 0;
      let ran = 0;
      let closedByServer = 0;
      let bytesBack = 0;
      let errored = 0;
      let nextHealth = HEALTH_EVERY;
      const makeCase = (i: number): Chunk[] => {
        const input = i < NET_MUTATED ? mutate(r, randomScript(r, r.int(4) !== 0), other) : randomBytes(r);
        return randomSplit(r, input);
      };
      while (next < total && Date.now() < deadline) {
        const batchEnd = Math.min(total, nextHealth);
        const worker = async (): Promise<void> => {
          while (next < batchEnd && Date.now() < deadline) {
            const chunks = makeCase(next++);
            const res = await rawBlast(server.port, chunks, 2000);
            ran++;
            bytesBack += res.bytes;
            if (res.closedByServer) closedByServer++;
            if (res.head.includes('\r\n-ERR ')) errored++;
          }
        };
        await Promise.all(Array.from({ length: NET_CONCURRENCY }, worker));
        await checkHealth();
        nextHealth += HEALTH_EVERY;
      }
      await checkHealth();
      t.diagnostic(
        `network cases run: ${ran} of ${total} (answered with -ERR: ${errored}; closed early by the server: ${closedByServer}; bytes back: ${bytesBack}); health checks: ${healthChecks}`,
      );
      assert.equal(ran, total, `only ${ran} of ${total} network cases ran within ${NET_DEADLINE_MS} ms`);
      // The mutations must reach the parser's error paths, or the run proved nothing about bad input.
      assert.ok(errored >= NET_MUTATED / 10, `only ${errored} of ${total} cases got an -ERR: the mutations are too mild`);

      // Every fuzzing connection is gone and took its subscriptions with it.
      const settled = await waitUntil(() => server.door.connections.size === 1 && server.router.sublist.count === 1, 5000);
      assert.ok(
        settled,
        `left behind: ${server.door.connections.size} connections, ${server.router.sublist.count} subscriptions`,
      );
      assert.deepEqual(uncaught, [], 'uncaught exceptions in the server');
      assert.equal(healthy.closed, false, 'the well-behaved connection was closed');
    },
  );
});

/** Polls `cond` every 20 ms until it holds or `maxMs` passes. */
async function waitUntil(cond: () => boolean, maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
