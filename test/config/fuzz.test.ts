import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNatsConf } from '../../src/config/nats-conf.js';
import { applyNatsConf, validateOptions } from '../../src/config/load.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { parseCommandLine } from '../../src/cli/args.js';
import { ConfigError } from '../../src/config/errors.js';

/**
 * Inputs per fuzz test: enough to reach every parser state many times, small enough to run in
 * about a second. FUZZ_CASES raises it for a longer local run.
 */
const CASES = Number(process.env['FUZZ_CASES'] ?? 4000);
/** Fixed seed so a failure reproduces (FUZZ_SEED picks another); the failing input is printed in the assertion message. */
const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed_c0f);

/** mulberry32: a tiny deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  'host: 127.0.0.1\nport: -1\nhttp: "127.0.0.1:-1"\nleafnodes {\n  listen: "127.0.0.1:-1"\n }\nserver_tags [\n  id:X1\n ]\n' +
    'websocket {\n  port: -1\n  no_tls: true\n }\nports_file_dir: /tmp\njetstream {\n  max_file_store: 1048576\n  max_mem_store: 1048576\n  store_dir: /tmp/x\n }\n',
  '{ "port": 4222, "leafnodes": { "a": [1, 2.5, "x\\x41\\n", \'raw\'], "m": { "k": yes } } }',
  'size = 1MB; max_payload $size\nauthorization { timeout: 0.5 }\nsync: "200ms"\ninclude a.conf\nd: 2016-05-04T18:53:41Z\nb: (\nblock\n)\n',
  'jetstream{max_file_store:1G, store_dir:"/x", enabled: on}\n// c\n# c\nlisten: 0.0.0.0:-1\nlog_level: debug\nx: $ENV_A\ny: $CYCLE\n',
];

/** Fragments that steer random text into the parser's interesting states. */
const PIECES = [
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  '\n)',
  ':',
  '=',
  ',',
  ';',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '"',
  "'",
  '\\',
  '\\x',
  '\\xZ',
  '\\x4',
  '#',
  '//',
  '/',
  '$',
  '$ENV_A',
  '$CYCLE',
  '$2a$',
  '-',
  '.',
  '0',
  '1',
  '42',
  '1.5',
  '1MB',
  '1kib',
  '2m',
  '10s',
  '127.0.0.1:4222',
  '2016-05-04T18:53:41Z',
  '2016-',
  'true',
  'off',
  'include ',
  'include a.conf\n',
  'include self.conf\n',
  'include "missing.conf"\n',
  'port',
  'jetstream',
  'http',
  'listen',
  'tls',
  'authorization',
  'sync',
  'max_payload',
  'a',
  'é',
  '\u0000',
  '\uFEFF',
  '__proto__',
  '99999999999999999999',
];

const env = { ENV_A: '1KB', CYCLE: '$CYCLE2', CYCLE2: '$CYCLE', BAD: '[1,' };
const readFile = (p: string): string => {
  if (p.endsWith('/a.conf')) return 'from_include: 1\nnested { x: [1, 2] }\n';
  if (p.endsWith('/self.conf')) return 'include self.conf\n';
  throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
};

function randomText(r: () => number): string {
  const n = Math.floor(r() * 40);
  let s = '';
  for (let i = 0; i < n; i++) {
    s += r() < 0.8 ? PIECES[Math.floor(r() * PIECES.length)] : String.fromCharCode(Math.floor(r() * 128));
  }
  return s;
}

function mutate(r: () => number, s: string): string {
  let out = s;
  const edits = 1 + Math.floor(r() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(r() * (out.length + 1));
    const op = r();
    if (op < 0.3) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(r() * 5));
    else if (op < 0.6) out = out.slice(0, at) + PIECES[Math.floor(r() * PIECES.length)] + out.slice(at);
    else if (op < 0.8) out = out.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + out.slice(at + 1);
    else out = out.slice(0, at) + out.slice(Math.floor(r() * out.length)); // splice a tail from elsewhere
  }
  return out;
}

/** Parses and maps `text`; anything thrown other than a ConfigError fails the test. */
function check(text: string): 'ok' | 'config-error' {
  try {
    const conf = parseNatsConf(text, { env, readFile, file: '/fuzz/main.conf' });
    assert.equal(typeof conf, 'object');
    JSON.stringify(conf); // acyclic and serialisable
    const { options } = applyNatsConf(conf, defaultOptions('herald'));
    validateOptions(options);
    return 'ok';
  } catch (e) {
    if (e instanceof ConfigError) {
      assert.ok(e.message.length > 0);
      return 'config-error';
    }
    assert.fail(`non-ConfigError ${String(e)} for input ${JSON.stringify(text)}`);
  }
}

test('seed inputs parse', () => {
  for (const s of SEEDS.slice(0, 2)) assert.equal(check(s), 'ok', s);
});

test(`fuzz: ${CASES} random texts only ever throw ConfigError`, () => {
  const r = rng(SEED);
  const seen = { ok: 0, 'config-error': 0 };
  for (let i = 0; i < CASES; i++) seen[check(randomText(r))]++;
  assert.ok(seen['config-error'] > 0 && seen.ok > 0, JSON.stringify(seen));
});

test(`fuzz: ${CASES} mutations of real configs only ever throw ConfigError`, () => {
  const r = rng(SEED + 1);
  const seen = { ok: 0, 'config-error': 0 };
  for (let i = 0; i < CASES; i++) seen[check(mutate(r, SEEDS[i % SEEDS.length]!))]++;
  assert.ok(seen['config-error'] > 0 && seen.ok > 0, JSON.stringify(seen));
});

test('fuzz: deep nesting and long inputs are bounded errors, not stack overflows', () => {
  for (const open of ['[', '{', 'a {', 'a: [', '[{a:']) {
    assert.equal(check(`a: ${open.repeat(10_000)}`), 'config-error');
  }
  assert.equal(check(`leafnodes: "${'x'.repeat(1_000_000)}"`), 'ok');
  // An unknown key is refused (nats-server: unknown field), however long.
  assert.equal(check(`${'k'.repeat(100_000)}: 1`), 'config-error');
});

const ARGS = [
  '-c',
  '--config',
  '-p',
  '--port',
  '--http-port',
  '-m',
  '-js',
  '--jetstream',
  '--no-jetstream',
  '-sd',
  '--data',
  '--sync',
  '-DV',
  '-D',
  '--max-payload',
  '--max-pending',
  '--log-level',
  '--help',
  '-v',
  '--bogus',
  'serve',
  'bench',
  'help',
  'version',
  '--',
  '-',
  '=',
  '--port=',
  '--jetstream=maybe',
  '-1',
  '0',
  '4222',
  '65536',
  'off',
  '1MB',
  '200ms',
  'always',
  'debug',
  'json',
  '',
  ' ',
  '/nonexistent.conf',
  '--ms',
  '--tls',
  '--user',
  '-l',
  'x',
];

test(`fuzz: ${CASES} random command lines only ever throw ConfigError`, () => {
  const r = rng(SEED + 2);
  for (let i = 0; i < CASES; i++) {
    const argv = Array.from({ length: Math.floor(r() * 7) }, () => ARGS[Math.floor(r() * ARGS.length)]!);
    for (const as of ['herald', 'nats-server'] as const) {
      try {
        const c = parseCommandLine(argv, as);
        if (c.command === 'serve') validateOptions(c.options);
      } catch (e) {
        if (!(e instanceof ConfigError)) assert.fail(`non-ConfigError ${String(e)} for ${as} ${JSON.stringify(argv)}`);
      }
    }
  }
});
