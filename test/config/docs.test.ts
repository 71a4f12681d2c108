import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { flagNames } from '../../src/cli/args.js';
import { applyNatsConf, CONFIG_KEYS, validateOptions } from '../../src/config/load.js';
import { defaultOptions } from '../../src/config/defaults.js';
import { parseNatsConf } from '../../src/config/nats-conf.js';

// docs/configuration.md must stay accurate to the code: every flag and key documented, and its
// examples must load the way the text says.
const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
const codeBlocks = [...doc.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('every herald flag is documented', () => {
  for (const f of flagNames('herald')) assert.ok(doc.includes(`\`${f}`) || doc.includes(`, \`${f}`), f);
});

test('every nats-server flag is documented', () => {
  for (const f of flagNames('nats-server')) assert.ok(doc.includes(`\`${f}\``) || doc.includes(`\`${f} `), f);
});

test('every config key is documented', () => {
  for (const k of CONFIG_KEYS) assert.ok(doc.includes(`\`${k}\``) || doc.includes(`\`${k} `), k);
});

test('the example herald.conf loads with no warnings', () => {
  const example = codeBlocks.find((b) => b.startsWith('# herald.conf'));
  assert.ok(example !== undefined);
  const { options, warnings } = applyNatsConf(parseNatsConf(example, { env: {} }), defaultOptions('herald'));
  assert.deepEqual(warnings, []);
  assert.deepEqual(validateOptions(options), []);
  assert.equal(options.host, '0.0.0.0');
  assert.equal(options.redisPort, 6379);
  assert.equal(options.maxFileStore, 50 * 1024 ** 3);
});

test('the launcher conf in the docs gives exactly three warnings', () => {
  const launcher = codeBlocks.find((b) => b.startsWith('host: 127.0.0.1\nport: -1'));
  assert.ok(launcher !== undefined);
  const { options, warnings } = applyNatsConf(parseNatsConf(launcher, { env: {} }), defaultOptions('nats-server'));
  assert.equal(warnings.length, 3);
  assert.equal(options.jetstream, true);
});

test('the syntax sample parses', () => {
  const sample = codeBlocks.find((b) => b.startsWith('# comments start'));
  assert.ok(sample !== undefined);
  const text = sample.replace(/^include .*$/m, '');
  const c = parseNatsConf(text, { env: { BIG: '64MB' } });
  assert.equal(c['limit'], 64 * 1024 * 1024);
  assert.deepEqual(c['tags'], ['a', 'b c', 3]);
});
