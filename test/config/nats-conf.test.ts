import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confLocation, parseNatsConf, parseNatsConfFile } from '../../src/config/nats-conf.js';
import { ConfigError } from '../../src/config/errors.js';

const parse = (text: string, env: Record<string, string> = {}) => parseNatsConf(text, { env });

/** Asserts that parsing throws a ConfigError whose message matches every pattern. */
function parseFails(text: string, ...patterns: RegExp[]): ConfigError {
  let caught: unknown;
  try {
    parse(text);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected ConfigError for ${JSON.stringify(text)}, got ${String(caught)}`);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

test('the three assignment forms', () => {
  assert.deepEqual(parse('a: 1\nb = 2\nc 3\nd:4\ne=5'), { a: 1, b: 2, c: 3, d: 4, e: 5 });
});

test('entries end at new lines, commas or semicolons', () => {
  assert.deepEqual(parse('a: 1; b: 2, c: 3\r\nd: x;\n'), { a: 1, b: 2, c: 3, d: 'x' });
});

test('maps, with or without a separator, nested', () => {
  assert.deepEqual(parse('a { b: 1, c { d: x } }\ne: { f = "g" }\nh {\n  i: 1\n  j: 2\n}'), {
    a: { b: 1, c: { d: 'x' } },
    e: { f: 'g' },
    h: { i: 1, j: 2 },
  });
  assert.deepEqual(parse('a {}\nb: {\n}'), { a: {}, b: {} });
});

test('a map value may start on the line after its key', () => {
  assert.deepEqual(parse('a {\n  b:\n    1\n}'), { a: { b: 1 } });
});

test('arrays, comma or new-line separated, nested, with comments and a trailing comma', () => {
  assert.deepEqual(parse('a: [1, 2, 3]\nb [\n  x\n  y # c\n  "z",\n]\nc: [[1], [a, {k: v}]]\nd: []'), {
    a: [1, 2, 3],
    b: ['x', 'y', 'z'],
    c: [[1], ['a', { k: 'v' }]],
    d: [],
  });
});

test('strings: double-quoted with escapes, single-quoted raw, bare', () => {
  const c = parse(String.raw`a: "x \t\n\r\"\\ \x41\xc3\xa9"
b: 'raw \n $X'
c: bare/path-1.conf
d: "multi
line"
e: ""`);
  assert.equal(c['a'], 'x \t\n\r"\\ Aé');
  assert.equal(c['b'], 'raw \\n $X');
  assert.equal(c['c'], 'bare/path-1.conf');
  assert.equal(c['d'], 'multi\nline');
  assert.equal(c['e'], '');
});

test('bare words keep : and = inside them and stop at spaces', () => {
  assert.deepEqual(parse('a: id:ABC=1\nb: nats://localhost:4222'), { a: 'id:ABC=1', b: 'nats://localhost:4222' });
});

test('booleans in every spelling and case', () => {
  const c = parse('a: true\nb: FALSE\nc: yes\nd: No\ne: on\nf: OFF\ng: "true"');
  assert.deepEqual(c, { a: true, b: false, c: true, d: false, e: true, f: false, g: 'true' });
});

test('integers, negatives, floats', () => {
  assert.deepEqual(parse('a: 0\nb: -1\nc: 4222\nd: 1.5\ne: -0.25\nf: 007'), { a: 0, b: -1, c: 4222, d: 1.5, e: -0.25, f: 7 });
});

test('size suffixes follow nats-server: K/M/G decimal, KB/MB/GB and Ki/KiB binary, any case', () => {
  const c = parse(
    'a: 1K\nb: 1k\nc: 1KB\nd: 1kb\ne: 1Ki\nf: 1KiB\ng: 1MB\nh: 64mb\ni: 1M\nj: 1G\nk: 2GB\nl: 1T\nm: 1TB\nn: 1P\no: -1K',
  );
  assert.deepEqual(c, {
    a: 1000,
    b: 1000,
    c: 1024,
    d: 1024,
    e: 1024,
    f: 1024,
    g: 1048576,
    h: 67108864,
    i: 1_000_000,
    j: 1e9,
    k: 2 * 1024 ** 3,
    l: 1e12,
    m: 1024 ** 4,
    n: 1e15,
    o: -1000,
  });
});

test('values starting with a digit that are not numbers are strings (durations, names)', () => {
  assert.deepEqual(parse('a: 10s\nb: 200ms\nc: 2hello\nd: 1h30m\ne: "2m"'), {
    a: '10s',
    b: '200ms',
    c: '2hello',
    d: '1h30m',
    e: '2m',
  });
});

test('an unquoted 2m is the number 2000000, as in nats-server', () => {
  assert.equal(parse('a: 2m')['a'], 2_000_000);
});

test('dotted addresses with ports are strings', () => {
  assert.deepEqual(parse('a: 127.0.0.1\nb: 127.0.0.1:4222\nc: 0.0.0.0:-1\nd: localhost:4222'), {
    a: '127.0.0.1',
    b: '127.0.0.1:4222',
    c: '0.0.0.0:-1',
    d: 'localhost:4222',
  });
});

test('ISO 8601 Zulu datetimes', () => {
  const d = parse('a: 2016-05-04T18:53:41Z')['a'];
  assert.ok(d instanceof Date);
  assert.equal(d.toISOString(), '2016-05-04T18:53:41.000Z');
});

test('# and // comments, anywhere a line may end', () => {
  const c = parse('# top\n// also\na: 1 # trailing\nb { // in map\n  c: 2 // after value\n}\nd: foo#bar\ne: [1 # x\n 2]');
  assert.deepEqual(c, { a: 1, b: { c: 2 }, d: 'foo#bar', e: [1, 2] });
});

test('quoted keys', () => {
  assert.deepEqual(parse('"a b": 1\n\'c\' = 2\nm { "x y": 3 }'), { 'a b': 1, c: 2, m: { 'x y': 3 } });
});

test('a whole file wrapped in braces (JSON style)', () => {
  assert.deepEqual(parse('{\n  "port": 4222,\n  "jetstream": {"max_mem_store": 1024},\n  "tags": ["a", "b"]\n}\n'), {
    port: 4222,
    jetstream: { max_mem_store: 1024 },
    tags: ['a', 'b'],
  });
});

test('keys may touch their map or array (jetstream{…})', () => {
  assert.deepEqual(parse('jetstream{max_file_store:1048576, max_mem_store:1048576, store_dir:"/tmp/x"}\ntags[a, b]'), {
    jetstream: { max_file_store: 1048576, max_mem_store: 1048576, store_dir: '/tmp/x' },
    tags: ['a', 'b'],
  });
});

test('( … ) blocks end at a ) alone on a line', () => {
  assert.equal(parse('a: (\nline one (x)\n)\nb: 1')['a'], '\nline one (x)\n');
});

test('a later key replaces an earlier one', () => {
  assert.deepEqual(parse('a: 1\na: 2'), { a: 2 });
});

test('__proto__ is an ordinary key', () => {
  const c = parse('__proto__ { polluted: true }\nconstructor: 1');
  assert.equal(Object.getPrototypeOf(c), Object.prototype);
  assert.deepEqual(Object.keys(c), ['__proto__', 'constructor']);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('variables: earlier keys, enclosing maps, then the environment', () => {
  const c = parse('size: 1MB\nm { inner: 2\n  a: $size\n  b: $inner }\nc: $FROM_ENV\nd: [$size]', { FROM_ENV: '42' });
  assert.deepEqual(c, { size: 1048576, m: { inner: 2, a: 1048576, b: 2 }, c: 42, d: [1048576] });
});

test('environment values are parsed as values, including nested variables', () => {
  const env = { A: '1KB', B: '"quoted string"', C: '[1, 2]', D: '$A', E: '', F: 'yes' };
  assert.deepEqual(parse('a: $A\nb: $B\nc: $C\nd: $D\ne: $E\nf: $F', env), {
    a: 1024,
    b: 'quoted string',
    c: [1, 2],
    d: 1024,
    e: '',
    f: true,
  });
});

test('bcrypt hashes are not variables', () => {
  assert.equal(parse('p: $2a$11$abc')['p'], '$2a$11$abc');
});

test('quoted $ is not a variable', () => {
  assert.equal(parse('p: "$NOPE"')['p'], '$NOPE');
});

test('variable errors: undefined, cycles, bad environment values', () => {
  parseFails('a: $NOPE', /<config>:1:4/, /'\$NOPE'.*not defined/);
  assert.throws(
    () => parse('a: $X', { X: '$Y', Y: '$X' }),
    (e: unknown) => e instanceof ConfigError && /refers to itself/.test(e.message),
  );
  assert.throws(
    () => parse('a: $X', { X: '[1,' }),
    (e: unknown) => e instanceof ConfigError && /environment variable X="\[1,"/.test(e.message),
  );
});

test('include: relative to the including file, merged into the current map, nested', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-conf-'));
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'main.conf'), 'port: 1\ninclude sub/a.conf\nm {\n  include "sub/b.conf"\n}\nafter: $from_a\n');
    writeFileSync(join(dir, 'sub', 'a.conf'), "from_a: 7\ninclude 'c.conf'\n");
    writeFileSync(join(dir, 'sub', 'c.conf'), 'from_c: x\n');
    writeFileSync(join(dir, 'sub', 'b.conf'), 'inner: true\n');
    const c = parseNatsConfFile(join(dir, 'main.conf'));
    assert.deepEqual(c, { port: 1, from_a: 7, from_c: 'x', m: { inner: true }, after: 7 });
    const l = confLocation(c, 'from_c');
    assert.equal(l?.file, join(dir, 'sub', 'c.conf'));
    assert.equal(l?.line, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('include errors: missing file, self-include, no name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-conf-'));
  try {
    writeFileSync(join(dir, 'missing.conf'), 'a: 1\ninclude nope.conf\n');
    assert.throws(
      () => parseNatsConfFile(join(dir, 'missing.conf')),
      (e: unknown) =>
        e instanceof ConfigError &&
        /missing\.conf:2:\d+/.test(e.message) &&
        /cannot read include file 'nope\.conf'.*no such file/.test(e.message),
    );
    writeFileSync(join(dir, 'self.conf'), 'include self.conf\n');
    assert.throws(
      () => parseNatsConfFile(join(dir, 'self.conf')),
      (e: unknown) => e instanceof ConfigError && /includes nest deeper than/.test(e.message),
    );
    assert.throws(
      () => parseNatsConfFile(join(dir, 'absent.conf')),
      (e: unknown) => e instanceof ConfigError && /cannot read config file '.*absent\.conf': no such file/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  parseFails('include [x]', /expected a file name after 'include', found '\['/);
  parseFails('include "unterminated', /unterminated include file name/);
});

test('locations point at the key', () => {
  const c = parse('a: 1\n  b: 2\nm {\n  c: [x,\n y]\n}');
  assert.deepEqual(confLocation(c, 'b'), { file: '<config>', line: 2, column: 3 });
  const m = c['m'] as Record<string, unknown>;
  assert.equal(confLocation(m, 'c')?.line, 4);
  assert.deepEqual(confLocation(m['c'] as object, 1), { file: '<config>', line: 5, column: 2 });
});

test('the exact conf the nats.js v3 launcher writes (toConf of confDefaults + jetstream)', () => {
  // nst/src/launcher.ts: confDefaults() then toConf(); values starting with a digit are quoted.
  const text = [
    'host: 127.0.0.1',
    'port: -1',
    'http: "127.0.0.1:-1"',
    'leafnodes {',
    '  listen: "127.0.0.1:-1"',
    ' }',
    'server_tags [',
    '  id:Y3PM1X0BHMO4L4IY6L1ZEF',
    ' ]',
    'websocket {',
    '  port: -1',
    '  no_tls: true',
    ' }',
    'ports_file_dir: /tmp',
    'jetstream {',
    '  max_file_store: 1048576',
    '  max_mem_store: 1048576',
    '  store_dir: /tmp/jetstream_tests_kSeaQh',
    ' }',
  ].join('\n');
  assert.deepEqual(parse(text), {
    host: '127.0.0.1',
    port: -1,
    http: '127.0.0.1:-1',
    leafnodes: { listen: '127.0.0.1:-1' },
    server_tags: ['id:Y3PM1X0BHMO4L4IY6L1ZEF'],
    websocket: { port: -1, no_tls: true },
    ports_file_dir: '/tmp',
    jetstream: { max_file_store: 1048576, max_mem_store: 1048576, store_dir: '/tmp/jetstream_tests_kSeaQh' },
  });
});

test('the conf the launcher writes back on stop (real ports) and the v2 launcher shape', () => {
  const text = 'host: 127.0.0.1\nport: 41234\nhttp: "127.0.0.1:38222"\nports_file_dir: /tmp/x\njetstream: "disabled"\n';
  assert.deepEqual(parse(text), {
    host: '127.0.0.1',
    port: 41234,
    http: '127.0.0.1:38222',
    ports_file_dir: '/tmp/x',
    jetstream: 'disabled',
  });
});

test('syntax errors name the line, column and what was expected', () => {
  parseFails('a: 1\nb:\n', /<config>:2:3/, /expected a value for 'b' on the same line, found a new line/);
  parseFails('a', /expected a value for 'a', found end of file/);
  parseFails('a: 1 2', /<config>:1:6/, /expected a new line, ',' or ';' after the value of 'a', found '2'/);
  parseFails('a { b: 1', /expected '}' to close the map opened at line 1/);
  parseFails('a: [1, 2', /expected '\]' to close the array opened at line 1/);
  parseFails('a: [1 2]', /expected ',' or '\]' after an array value, found '2'/);
  parseFails('a: [,]', /unexpected ',' in array/);
  parseFails('a: "open', /unterminated string: expected a closing "/);
  parseFails("a: 'open", /unterminated string: expected a closing '/);
  parseFails('"key', /unterminated quoted key/);
  parseFails('a: "\\q"', /invalid escape '\\q'/);
  parseFails('a: "\\xZZ"', /two hexadecimal digits/);
  parseFails('a: .5', /floats must start with a digit/);
  parseFails('a: -.5', /floats must start with a digit/);
  parseFails('a: -x', /expected a digit after '-'/);
  parseFails('a: 1.', /floats need a digit after the '.'/);
  parseFails('a: 1.x', /floats need a digit after the '.'/);
  parseFails('a: 1kbb', /unknown size suffix in "1kbb"/);
  parseFails('a: 99999999999E', /out of range/);
  parseFails('a: 20-1', /dates must be written in full ISO 8601 Zulu form/);
  parseFails('a: 2016-05-04X', /expected 'T' in a datetime/);
  parseFails('a: 2016-13-04T00:00:00Z', /not a valid date/);
  parseFails('}', /unexpected '}' with no open map/);
  parseFails(': 1', /expected a key, found ':'/);
  parseFails('a: }', /expected a value for 'a', found '}'/);
  parseFails('a: (\nno end', /unterminated '\(' block/);
  parseFails('{ a: 1 } b', /expected end of file after the closing '}'/);
  parseFails('a: ' + '['.repeat(100), /nest deeper than 64 levels/);
});

test('errors from files name the file', () => {
  assert.throws(
    () => parseNatsConf('port: 1\nbad: "x', { file: 'herald.conf' }),
    (e: unknown) =>
      e instanceof ConfigError && e.message.startsWith('herald.conf:2:6: unterminated string') && e.location?.line === 2,
  );
});
