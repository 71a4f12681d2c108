/**
 * Unit tests of the NATS client-protocol parser (src/nats/parser.ts; specs/nats.md §1
 * "Operations"): every op, frames split at every byte boundary, payloads with CRLF inside,
 * zero-length payloads, HPUB header/payload boundaries, and the control-line limit exactly at and
 * over its value.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError, Parser, type ParserHandler } from '../../src/nats/parser.js';

/** One parsed op, in a comparable form (buffers as latin1 text). */
type RecordedOp =
  | ['connect', string]
  | ['pub', string, string, string | null, string]
  | ['sub', string, string | null, string]
  | ['unsub', string, number]
  | ['ping']
  | ['pong'];

/** A ParserHandler that records every op; header support and max payload are configurable. */
class Recorder implements ParserHandler {
  readonly ops: RecordedOp[] = [];
  /** The payload Buffers as handed over (not copied), for aliasing checks. */
  readonly payloads: Buffer[] = [];
  maxPayloadCalls = 0;
  constructor(
    private readonly headers = true,
    private readonly maxPay = 1024 * 1024,
  ) {}
  onConnect(json: string): void {
    this.ops.push(['connect', json]);
  }
  onPub(subject: string, reply: string, headers: Buffer | null, payload: Buffer): void {
    this.payloads.push(payload);
    this.ops.push(['pub', subject, reply, headers === null ? null : headers.toString('latin1'), payload.toString('latin1')]);
  }
  headersAllowed(): boolean {
    return this.headers;
  }
  onSub(subject: string, queue: string | null, sid: string): void {
    this.ops.push(['sub', subject, queue, sid]);
  }
  onUnsub(sid: string, max: number): void {
    this.ops.push(['unsub', sid, max]);
  }
  onPing(): void {
    this.ops.push(['ping']);
  }
  onPong(): void {
    this.ops.push(['pong']);
  }
  maxPayload(): number {
    this.maxPayloadCalls++;
    return this.maxPay;
  }
}

interface ParseOutcome {
  ops: RecordedOp[];
  /** 0, or the ParseError that stopped parsing. */
  err: number;
  rec: Recorder;
}

/** Parses `chunks` in order with a fresh parser; stops at the first error, as a connection does. */
function parseChunks(
  chunks: readonly (string | Buffer)[],
  opts: { maxControlLine?: number; headers?: boolean; maxPayload?: number } = {},
): ParseOutcome {
  const rec = new Recorder(opts.headers ?? true, opts.maxPayload ?? 1024 * 1024);
  const p = new Parser(rec, opts.maxControlLine ?? 4096);
  let err = 0;
  for (const c of chunks) {
    err = p.parse(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
    if (err !== 0) break;
  }
  return { ops: rec.ops, err, rec };
}

const parse = (s: string, opts?: Parameters<typeof parseChunks>[1]): ParseOutcome => parseChunks([s], opts);

/** Every split of `s` into two chunks parses to the same ops and error as `s` whole. */
function assertSplitInvariant(s: string, opts?: Parameters<typeof parseChunks>[1]): void {
  const whole = parse(s, opts);
  for (let i = 1; i < s.length; i++) {
    const split = parseChunks([s.slice(0, i), s.slice(i)], opts);
    assert.deepEqual(split.ops, whole.ops, `split at ${i}: ${JSON.stringify(s.slice(0, i))} | ${JSON.stringify(s.slice(i))}`);
    assert.equal(split.err, whole.err, `split at ${i}: error`);
  }
}

const HDR = 'NATS/1.0\r\nA: 1\r\n\r\n';

describe('Parser: operations', () => {
  test('CONNECT hands over the JSON text', () => {
    assert.deepEqual(parse('CONNECT {"verbose":false}\r\n').ops, [['connect', '{"verbose":false}']]);
  });

  test('CONNECT without a separator, with tabs, with a bare LF', () => {
    assert.deepEqual(parse('CONNECT{}\r\nCONNECT\t \t{"a":1}\nconnect {}\r\n').ops, [
      ['connect', '{}'],
      ['connect', '{"a":1}'],
      ['connect', '{}'],
    ]);
  });

  test('PUB with and without a reply', () => {
    assert.deepEqual(parse('PUB foo 5\r\nhello\r\nPUB foo bar 2\r\nhi\r\n').ops, [
      ['pub', 'foo', '', null, 'hello'],
      ['pub', 'foo', 'bar', null, 'hi'],
    ]);
  });

  test('HPUB with and without a reply', () => {
    const h = HDR.length;
    assert.deepEqual(parse(`HPUB foo ${h} ${h + 2}\r\n${HDR}hi\r\nHPUB foo r ${h} ${h}\r\n${HDR}\r\n`).ops, [
      ['pub', 'foo', '', HDR, 'hi'],
      ['pub', 'foo', 'r', HDR, ''],
    ]);
  });

  test('HPUB with header size 0 has no headers', () => {
    assert.deepEqual(parse('HPUB foo 0 5\r\nhello\r\n').ops, [['pub', 'foo', '', null, 'hello']]);
  });

  test('SUB, queue SUB, UNSUB, UNSUB with max', () => {
    assert.deepEqual(parse('SUB foo 1\r\nSUB foo q 2\r\nUNSUB 1\r\nUNSUB 2 10\r\n').ops, [
      ['sub', 'foo', null, '1'],
      ['sub', 'foo', 'q', '2'],
      ['unsub', '1', 0],
      ['unsub', '2', 10],
    ]);
  });

  test('UNSUB with a malformed max means "now" (0)', () => {
    assert.deepEqual(parse('UNSUB 1 abc\r\nUNSUB 2 -1\r\nUNSUB 3 0000000001\r\n').ops, [
      ['unsub', '1', 0],
      ['unsub', '2', 0],
      ['unsub', '3', 0],
    ]);
  });

  test('PING, PONG; trailing text on their line is ignored', () => {
    assert.deepEqual(parse('PING\r\nPONG\r\nPING foo\r\nping\nPINGPING\r\n').ops, [
      ['ping'],
      ['pong'],
      ['ping'],
      ['ping'],
      ['ping'],
    ]);
  });

  test('+OK and INFO from a client are absorbed', () => {
    const out = parse('+OK\r\n+ok x\r\nINFO {"a":1}\r\nINFO null\r\nINFO{}\r\nPING\r\n');
    assert.equal(out.err, 0);
    assert.deepEqual(out.ops, [['ping']]);
  });

  test('verbs are case-insensitive; fields split on runs of spaces and tabs', () => {
    assert.deepEqual(parse('pUb\tfoo \t bar  2 \r\nhi\r\nsUb  foo\tq\t 1\r\nUnSuB 1\t3\r\n').ops, [
      ['pub', 'foo', 'bar', null, 'hi'],
      ['sub', 'foo', 'q', '1'],
      ['unsub', '1', 3],
    ]);
  });

  test('SUB and UNSUB split fields on CR, PUB does not', () => {
    assert.deepEqual(parse('SUB foo\r 1\r\n').ops, [['sub', 'foo', null, '1']]);
    assert.deepEqual(parse('PUB foo\r 0\r\n\r\n').ops, [['pub', 'foo\r', '', null, '']]);
  });
});

describe('Parser: payloads', () => {
  test('payloads with CRLF and op-like text inside', () => {
    const body = 'a\r\nb\r\nPING\r\nPUB x 1\r\n';
    assert.deepEqual(parse(`PUB foo ${body.length}\r\n${body}\r\nPING\r\n`).ops, [['pub', 'foo', '', null, body], ['ping']]);
  });

  test('zero-length payloads, whole and split around the CRLF', () => {
    const s = 'PUB foo 0\r\n\r\nPUB bar r 0\r\n\r\n';
    assert.deepEqual(parse(s).ops, [
      ['pub', 'foo', '', null, ''],
      ['pub', 'bar', 'r', null, ''],
    ]);
    assertSplitInvariant(s);
  });

  test('every byte value in a payload', () => {
    const all = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    const s = Buffer.concat([Buffer.from('PUB foo 256\r\n'), all, Buffer.from('\r\n')]);
    const out = parseChunks([s]);
    assert.equal(out.err, 0);
    assert.deepEqual(out.rec.payloads[0], all);
  });

  test('a payload in one read is a view of that read (no copy)', () => {
    const input = Buffer.from('PUB foo 5\r\nhello\r\n');
    const out = parseChunks([input]);
    assert.equal(out.rec.payloads[0].buffer, input.buffer);
  });

  test('a payload split across reads is copied: later reads may reuse their buffers', () => {
    const a = Buffer.from('PUB foo 5\r\nhe');
    const b = Buffer.from('llo\r\n');
    const out = parseChunks([a, b]);
    a.fill(0);
    b.fill(0);
    assert.equal(out.rec.payloads[0].toString(), 'hello');
  });

  test('payload longer than declared', () => {
    assert.equal(parse('PUB foo 2\r\nhiX\r\n').err, ParseError.UnknownOperation);
    assert.equal(parseChunks(['PUB foo 2\r\nh', 'iX\r\n']).err, ParseError.UnknownOperation);
  });

  test('payload followed by CR but not LF', () => {
    assert.equal(parse('PUB foo 2\r\nhi\rX').err, ParseError.UnknownOperation);
  });

  test('HPUB header and payload boundaries survive every split', () => {
    const h = HDR.length;
    const s = `HPUB foo r ${h} ${h + 7}\r\n${HDR}pay\r\nld\r\nHPUB bar ${h} ${h}\r\n${HDR}\r\n`;
    const whole = parse(s);
    assert.deepEqual(whole.ops, [
      ['pub', 'foo', 'r', HDR, 'pay\r\nld'],
      ['pub', 'bar', '', HDR, ''],
    ]);
    assertSplitInvariant(s);
  });
});

describe('Parser: split frames', () => {
  const script =
    'CONNECT {"verbose":false,"headers":true}\r\n' +
    'SUB foo q 1\r\n' +
    'PUB foo r 6\r\nhe\r\nlo\r\n' +
    `HPUB foo ${HDR.length} ${HDR.length + 2}\r\n${HDR}hi\r\n` +
    'UNSUB 1 5\r\n' +
    'PUB foo 0\r\n\r\n' +
    'PING\r\nPONG\r\n+OK\r\nINFO {}\r\n' +
    'PING\n';

  test('two chunks, at every byte boundary', () => {
    assert.equal(parse(script).err, 0);
    assert.equal(parse(script).ops.length, 9);
    assertSplitInvariant(script);
  });

  test('three chunks, at every pair of boundaries of a PUB frame', () => {
    const s = 'PUB foo r 6\r\nhe\r\nlo\r\nPING\r\n';
    const whole = parse(s).ops;
    for (let i = 1; i < s.length; i++) {
      for (let j = i + 1; j < s.length; j++) {
        assert.deepEqual(parseChunks([s.slice(0, i), s.slice(i, j), s.slice(j)]).ops, whole, `splits at ${i} and ${j}`);
      }
    }
  });

  test('one byte per read', () => {
    assert.deepEqual(parseChunks(Array.from(script)).ops, parse(script).ops);
  });

  test('an empty read changes nothing', () => {
    assert.deepEqual(parseChunks(['PUB foo 2\r\n', '', 'h', '', 'i\r\n', '']).ops, [['pub', 'foo', '', null, 'hi']]);
  });
});

describe('Parser: control-line limit', () => {
  const MAX = 32;
  const opts = { maxControlLine: MAX };
  /** A SUB whose argument line (after "SUB ") is exactly `n` bytes. */
  const sub = (n: number): string => `SUB ${'a'.repeat(n - 2)} 1\r\n`;

  test('an argument line of exactly the limit is accepted', () => {
    assert.deepEqual(parse(sub(MAX), opts).ops, [['sub', 'a'.repeat(MAX - 2), null, '1']]);
  });

  test('one byte over the limit is refused', () => {
    assert.equal(parse(sub(MAX + 1), opts).err, ParseError.MaxControlLine);
  });

  test('the limit holds at every split of a line at and over it', () => {
    assertSplitInvariant(sub(MAX), opts);
    assertSplitInvariant(sub(MAX + 1), opts);
  });

  test('a partial line at the limit waits; over it, it is refused at once', () => {
    assert.equal(parseChunks(['SUB ' + 'a'.repeat(MAX)], opts).err, 0);
    assert.equal(parseChunks(['SUB ' + 'a'.repeat(MAX + 1)], opts).err, ParseError.MaxControlLine);
    assert.equal(parseChunks(['SUB ' + 'a'.repeat(10), 'a'.repeat(MAX - 10)], opts).err, 0);
    assert.equal(parseChunks(['SUB ' + 'a'.repeat(10), 'a'.repeat(MAX - 9)], opts).err, ParseError.MaxControlLine);
  });

  test('a CR ending a read does not count toward the limit', () => {
    const line = sub(MAX);
    assert.deepEqual(parseChunks([line.slice(0, -1), '\n'], opts).ops, [['sub', 'a'.repeat(MAX - 2), null, '1']]);
  });

  test('spaces before the arguments do not count', () => {
    assert.equal(parse(`SUB      ${'a'.repeat(MAX - 2)} 1\r\n`, opts).err, 0);
  });

  test('CONNECT, INFO and -ERR lines are limited too; PING lines are not', () => {
    assert.equal(parse(`CONNECT {"name":"${'n'.repeat(MAX)}"}\r\n`, opts).err, ParseError.MaxControlLine);
    assert.equal(parse(`INFO ${'i'.repeat(MAX + 1)}\r\n`, opts).err, ParseError.MaxControlLine);
    assert.equal(parse(`-ERR ${'e'.repeat(MAX + 1)}\r\n`, opts).err, ParseError.MaxControlLine);
    assert.deepEqual(parse(`PING ${'p'.repeat(MAX * 10)}\r\n`, opts).ops, [['ping']]);
  });

  test('the payload is not part of the control line', () => {
    const body = 'x'.repeat(MAX * 4);
    assert.deepEqual(parse(`PUB foo ${body.length}\r\n${body}\r\n`, opts).ops, [['pub', 'foo', '', null, body]]);
  });
});

describe('Parser: errors', () => {
  const cases: [string, string, ParseError][] = [
    ['unknown verb', 'FOO\r\n', ParseError.UnknownOperation],
    ['MSG from a client', 'MSG foo 1 0\r\n', ParseError.UnknownOperation],
    ['stray CRLF before an op', '\r\nPING\r\n', ParseError.UnknownOperation],
    ['leading space', ' PING\r\n', ParseError.UnknownOperation],
    ['verb without a separator', 'SUBfoo 1\r\n', ParseError.UnknownOperation],
    ['PUB then CRLF', 'PUB\r\n', ParseError.UnknownOperation],
    ['-ERR without a space', '-ERR\r\n', ParseError.UnknownOperation],
    ['+O then CRLF', '+O\r\n', ParseError.UnknownOperation],
    ['-ERR from a client', "-ERR 'x'\r\n", ParseError.ClientError],
    ['PUB with one field', 'PUB foo\r\n', ParseError.BadArguments],
    ['PUB with four fields', 'PUB a b c 1\r\n', ParseError.BadArguments],
    ['PUB size not a number', 'PUB foo 5x\r\n', ParseError.BadArguments],
    ['PUB size of 10 digits', 'PUB foo 0000000005\r\n', ParseError.BadArguments],
    ['HPUB header over total', 'HPUB foo 6 5\r\n', ParseError.BadArguments],
    ['HPUB with two fields', 'HPUB foo 5\r\n', ParseError.BadArguments],
    ['SUB with one field', 'SUB foo\r\n', ParseError.BadArguments],
    ['SUB with four fields', 'SUB a b c d\r\n', ParseError.BadArguments],
    ['UNSUB with no fields', 'UNSUB \r\n', ParseError.BadArguments],
    ['UNSUB with three fields', 'UNSUB 1 2 3\r\n', ParseError.BadArguments],
    ['INFO that is not JSON', 'INFO garbage\r\n', ParseError.BadArguments],
    ['INFO that is an array', 'INFO []\r\n', ParseError.BadArguments],
    ['PUB over max payload', 'PUB foo 1048577\r\n', ParseError.MaxPayload],
    ['HPUB over max payload', 'HPUB foo 1 1048577\r\n', ParseError.MaxPayload],
  ];
  for (const [name, input, err] of cases) {
    test(name, () => {
      assert.equal(parse(input).err, err);
    });
  }

  test('ops before an error are delivered; nothing after it', () => {
    const out = parse('PING\r\nFOO\r\nPING\r\n');
    assert.deepEqual(out.ops, [['ping']]);
    assert.equal(out.err, ParseError.UnknownOperation);
  });

  test('HPUB is refused when the connection has no header support', () => {
    assert.equal(parse(`HPUB foo ${HDR.length} ${HDR.length}\r\n${HDR}\r\n`, { headers: false }).err, ParseError.BadArguments);
  });

  test('the payload limit is checked before the payload is read', () => {
    const out = parseChunks(['PUB foo 11\r\n'], { maxPayload: 10 });
    assert.equal(out.err, ParseError.MaxPayload);
    assert.equal(out.rec.maxPayloadCalls, 1);
    assert.equal(parse('PUB foo 10\r\n0123456789\r\n', { maxPayload: 10 }).err, 0);
  });
});
