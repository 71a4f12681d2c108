import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePub, NatsScanner, repeatFrame, PING } from '../../src/bench/lib/nats-wire.js';
import { encodeCommand, RespCounter, RespError, RespParser, type RespValue } from '../../src/bench/lib/resp-wire.js';

/** Feeds `bytes` to `feed` split at every position (two chunks), and in 1-byte chunks. */
function splits(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes]];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  out.push([...bytes].map((b) => Buffer.from([b])));
  return out;
}

const NATS_STREAM = Buffer.from(
  'INFO {"server_id":"x"}\r\n' +
    'MSG foo 1 5\r\nhello\r\n' +
    'PING\r\n' +
    'MSG foo.bar 2 _INBOX.r 0\r\n\r\n' +
    'HMSG foo 1 12 17\r\nNATS/1.0\r\n\r\nhello\r\n' +
    '+OK\r\n' +
    'PONG\r\n' +
    'MSG big 1 11\r\n\r\nMSG x 1\r\n\r\n' + // payload that looks like a frame: must be skipped, not parsed
    "-ERR 'Slow Consumer'\r\n",
);

test('NatsScanner counts frames however the stream is split', () => {
  for (const chunks of splits(NATS_STREAM)) {
    let pings = 0;
    const errs: string[] = [];
    const msgs: Array<[string, string, boolean]> = [];
    const sc = new NatsScanner({
      onPing: () => pings++,
      onErr: (t) => errs.push(t),
      onMsg: (line, payload, h) => msgs.push([line.toString(), payload.toString(), h]),
    });
    for (const c of chunks) sc.feed(c);
    assert.equal(sc.msgs, 3);
    assert.equal(sc.hmsgs, 1);
    assert.equal(sc.pongs, 1);
    assert.equal(pings, 1);
    assert.deepEqual(errs, ["-ERR 'Slow Consumer'"]);
    assert.deepEqual(msgs, [
      ['MSG foo 1 5', 'hello', false],
      ['MSG foo.bar 2 _INBOX.r 0', '', false],
      ['HMSG foo 1 12 17', 'NATS/1.0\r\n\r\nhello', true],
      ['MSG big 1 11', '\r\nMSG x 1\r\n', false],
    ]);
  }
});

test('NatsScanner counts without onMsg (the hot path) and across many frames', () => {
  const frame = Buffer.from('MSG bench.x 1 16\r\n0123456789abcdef\r\n');
  const data = repeatFrame(frame, 1000, PING);
  for (const size of [1, 7, 64, 4096, data.length]) {
    const sc = new NatsScanner({});
    for (let i = 0; i < data.length; i += size) sc.feed(data.subarray(i, i + size));
    assert.equal(sc.msgs, 1000, `chunk size ${size}`);
  }
});

test('encodePub and repeatFrame build the expected bytes', () => {
  assert.equal(encodePub('a.b', Buffer.from('hi')).toString(), 'PUB a.b 2\r\nhi\r\n');
  assert.equal(encodePub('a', Buffer.from(''), 'r').toString(), 'PUB a r 0\r\n\r\n');
  assert.equal(repeatFrame(Buffer.from('x'), 3, PING).toString(), 'xxxPING\r\n');
});

const RESP_STREAM = Buffer.concat([
  Buffer.from(':1\r\n'),
  Buffer.from('$15\r\n1700000000000-0\r\n'),
  Buffer.from('*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n'),
  Buffer.from('>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\n\r\n$1\r\r\n'), // payload that looks like RESP
  Buffer.from('-ERR wrong type\r\n'),
  Buffer.from('$-1\r\n'),
  Buffer.from('*2\r\n*0\r\n*1\r\n+OK\r\n'),
  Buffer.from('%1\r\n+k\r\n:2\r\n'),
]);

test('RespCounter counts top-level replies however the stream is split', () => {
  for (const chunks of splits(RESP_STREAM)) {
    const c = new RespCounter();
    for (const ch of chunks) c.feed(ch);
    assert.equal(c.values, 8);
    assert.equal(c.errors, 1);
    assert.equal(c.firstError, 'ERR wrong type');
  }
});

test('RespParser yields values however the stream is split', () => {
  for (const chunks of splits(RESP_STREAM)) {
    const got: RespValue[] = [];
    const p = new RespParser((v) => got.push(v));
    for (const ch of chunks) p.feed(ch);
    assert.equal(got.length, 8);
    assert.equal(got[0], 1);
    assert.equal(String(got[1]), '1700000000000-0');
    assert.deepEqual((got[2] as Buffer[]).map(String), ['subscribe', 'ch', '1']);
    assert.equal(String((got[3] as Buffer[])[2]), '\r\n$1\r');
    assert.ok(got[4] instanceof RespError);
    assert.equal(got[5], null);
    assert.deepEqual(got[6], [[], ['OK']]);
    assert.deepEqual(got[7], ['k', 2]);
  }
});

test('encodeCommand writes a RESP array of bulk strings', () => {
  assert.equal(
    encodeCommand(['XADD', 's', '*', 'd', Buffer.from('v')]).toString(),
    '*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nd\r\n$1\r\nv\r\n',
  );
});
