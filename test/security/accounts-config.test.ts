// Account configs, differential: each bad conf is refused by the real nats-server (`-t`, test the
// config) and by herald's config loader with the same message; each good one is accepted by both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { defaultOptions } from '../../src/config/defaults.js';
import { loadConfigFile, validateOptions } from '../../src/config/load.js';
import { natsServerBin } from '../helpers/nats-server.js';
import { writeConf } from './helpers.js';

const BAD: string[] = [
  'accounts { A: {}, B: { imports: [ { stream: { account: C, subject: x } } ] } }',
  'accounts { A: {}, B: { imports: [ { service: { account: C, subject: x } } ] } }',
  'accounts { A: {}, B: { imports: [ { stream: { account: A, subject: x } } ] } }',
  'accounts { A: { exports: [ { stream: x, accounts: [ C ] } ] }, B: { imports: [ { stream: { account: A, subject: x } } ] }, C: {} }',
  'accounts { A: { exports: [ { stream: "x.*" } ] }, B: { imports: [ { stream: { account: A, subject: "x.>" } } ] } }',
  'accounts { A: { exports: [ { service: s } ], imports: [ { service: { account: B, subject: s } } ] }, B: { exports: [ { service: s } ], imports: [ { service: { account: A, subject: s } } ] } }',
  'accounts { A: { users: [ { user: a, password: a } ] }, B: { users: [ { user: a, password: b } ] } }',
];

/** Refused only when nats-server starts (`-t` does not check them); it exits at once. */
const BAD_AT_START: string[] = [
  'port: -1\nhttp_port: 0\naccounts { A: { users: [ { user: a, password: a } ] } }\nno_auth_user: b',
  'port: -1\nsystem_account: NOPE\naccounts { A: {} }',
];

const GOOD: string[] = [
  'accounts { A: { users: [ { user: a, password: a } ], jetstream: enabled } }\nno_auth_user: a',
  'accounts { A: { exports: [ { stream: "x.>" }, { service: "s.*", accounts: [ B ] } ] }, B: { imports: [ { stream: { account: A, subject: "x.y" }, prefix: p }, { service: { account: A, subject: "s.*" }, to: "t.*" } ] } }',
  'accounts { A: { exports: [ { service: s } ], imports: [ { service: { account: B, subject: t } } ] }, B: { exports: [ { service: t } ], imports: [ { service: { account: A, subject: s } } ] } }',
  'accounts { SYS: { users: [ { user: s, password: s } ] } }\nsystem_account: SYS',
];

/** nats-server's verdict on a conf: null when valid, else its message without the file location. */
function natsVerdict(bin: string, file: string, atStart: boolean): string | null {
  const r = spawnSync(bin, atStart ? ['-c', file] : ['-t', '-c', file], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0) return null;
  return (r.stdout + r.stderr)
    .trim()
    .replace(/^nats-server: /, '')
    .replace(/^\S+:\d+:\d+: /, '');
}

/** herald's verdict, the same way. */
function heraldVerdict(file: string): string | null {
  try {
    const { options } = loadConfigFile(file, defaultOptions('herald'));
    validateOptions(options);
    return null;
  } catch (e) {
    return (e as Error).message.replace(/^\S+:\d+:\d+: /, '');
  }
}

test('account configs: herald refuses what nats-server refuses, with its message', (t) => {
  const bin = natsServerBin();
  if (bin === null) return t.skip('nats-server is not installed');
  for (const conf of [...BAD, ...BAD_AT_START, ...GOOD]) {
    const { file } = writeConf(conf);
    try {
      const ref = natsVerdict(bin, file, BAD_AT_START.includes(conf));
      const ours = heraldVerdict(file);
      if (GOOD.includes(conf)) {
        assert.equal(ref, null, `nats-server refused a conf the test calls good: ${conf}`);
        assert.equal(ours, null, conf);
      } else {
        assert.notEqual(ref, null, `nats-server accepted: ${conf}`);
        assert.ok(ours !== null && ours.includes(ref!), `${conf}\n  nats-server: ${ref}\n  herald:      ${ours}`);
      }
    } finally {
      rmSync(dirname(file), { recursive: true, force: true });
    }
  }
});
