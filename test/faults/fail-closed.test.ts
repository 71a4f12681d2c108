/**
 * Fail closed (issue 12 item 6): a config that asks for security herald does not implement —
 * users or nkeys under `accounts { }`, account imports/exports or permissions, JWT operator mode,
 * `tls { }` — stops herald before it listens, with a message naming the key. Harmless account
 * declarations stay warnings. (`authorization { }` with users and permissions is implemented:
 * test/security.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { applyNatsConf } from '../../src/config/load.js';
import { parseNatsConf } from '../../src/config/nats-conf.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { removeDir, tempDir } from '../store/helpers.js';

const BIN = resolve(import.meta.dirname, '../../../bin/herald.js');

function apply(text: string): { warnings: string[] } {
  return applyNatsConf(parseNatsConf(text, { env: {} }), defaultOptions('herald'));
}

const REFUSED: [string, RegExp][] = [
  ['accounts { A: { users: [ { user: a, password: b } ] } }', /accounts\.A\.users: herald has a single global account/],
  ['accounts { A: { nkeys: [ UABC ] } }', /accounts\.A\.nkeys/],
  ['accounts { A: {}, B: { imports: [ { stream: { account: A, subject: x } } ] } }', /accounts\.B\.imports/],
  ['accounts { A: { exports: [ { stream: x } ] } }', /accounts\.A\.exports/],
  ['operator: /etc/op.jwt', /operator: herald has no JWT\/operator mode/],
  ['resolver: MEMORY', /resolver: herald has no JWT/],
  ['trusted_keys: [ OABC ]', /trusted_keys/],
];

test('security settings herald cannot enforce are refused when the config is read', () => {
  for (const [conf, why] of REFUSED) assert.throws(() => apply(conf), why, conf);
});

test('an account that only names itself is still a warning', () => {
  const r = apply('accounts { A: {} }');
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /'accounts' is ignored: herald has a single global account/);
});

test('herald refuses to start on a config with users under accounts, naming the key', () => {
  const dir = tempDir('failclosed');
  try {
    const conf = join(dir, 'h.conf');
    writeFileSync(conf, `port: -1\naccounts {\n  APP: { users: [ { user: app, password: secret } ] }\n}\n`);
    const r = spawnSync(process.execPath, [BIN, '-c', conf], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(r.status, 0, `herald started anyway: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /accounts\.APP\.users: herald has a single global account/);
    assert.doesNotMatch(r.stdout + r.stderr, /listening/i);
  } finally {
    removeDir(dir);
  }
});
