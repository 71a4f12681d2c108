/**
 * Fail closed (issue 12 item 6): a config that asks for security herald does not implement —
 * JWT operator mode, auth callout, invalid subject mappings, per-account connection limits, account
 * settings herald does not know, imports that no export authorizes — stops herald before it
 * listens, with a message naming the key. (`authorization { }` and `accounts { }` with users,
 * JetStream, imports and exports are implemented: test/security.)
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
  ['accounts { A: { nkeys: [ UABC ] } }', /accounts\.A\.nkeys/],
  // Mappings are implemented (src/core/mapping.ts); an invalid one is refused with nats-server's text.
  ['accounts { A: { mappings: { "a.*": "b.$2" } } }', /accounts\.A\.mappings\.a\.\*: Error adding mapping for "a\.\*" to "b\.\$2"/],
  ['accounts { A: { auth_callout: { issuer: x } } }', /accounts\.A\.auth_callout/],
  ['accounts { A: { limits: { max_conn: 1 } } }', /accounts\.A\.limits/],
  ['accounts { A: { jetstream: { max_ack_pending: 1 } } }', /accounts\.A\.jetstream\.max_ack_pending/],
  [
    'accounts { A: { exports: [ { stream: x, latency: y } ] }, B: { imports: [ { stream: { account: A, subject: x } }, { service: { account: A, subject: s } } ] } }',
    /Error adding service import "s": service import not authorized/,
  ],
  ['operator: /etc/op.jwt', /operator: herald has no JWT\/operator mode/],
  ['resolver: MEMORY', /resolver: herald has no JWT/],
  ['trusted_keys: [ OABC ]', /trusted_keys/],
];

test('security settings herald cannot enforce are refused when the config is read', () => {
  for (const [conf, why] of REFUSED) assert.throws(() => apply(conf), why, conf);
});

test('accounts with users, JetStream, exports and imports are accepted; an account that only names itself is no warning', () => {
  const r = apply(
    'accounts { A: { users: [ { user: a, password: b } ], jetstream: enabled, exports: [ { stream: "x.>" } ] }, B: { imports: [ { stream: { account: A, subject: "x.>" } } ] } }',
  );
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(apply('accounts { A: {} }').warnings, []);
});

test('herald refuses to start on a config with an invalid subject mapping in an account, naming the key', () => {
  const dir = tempDir('failclosed');
  try {
    const conf = join(dir, 'h.conf');
    // No listener may outlive a failed assertion: every port is random and the data dir is temporary.
    writeFileSync(
      conf,
      `port: -1\nhttp_port: -1\nstore_dir: ${JSON.stringify(join(dir, 'data'))}\naccounts {\n  APP: { users: [ { user: app, password: secret } ], mappings: { "a.*": "b.$2" } }\n}\n`,
    );
    const r = spawnSync(process.execPath, [BIN, '-c', conf], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(r.status, 0, `herald started anyway: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /accounts\.APP\.mappings\.a\.\*: Error adding mapping for "a\.\*" to "b\.\$2" : invalid mapping destination/);
    assert.doesNotMatch(r.stdout + r.stderr, /listening/i);
  } finally {
    removeDir(dir);
  }
});
