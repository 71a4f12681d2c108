// The error catalogue discipline for the Redis door: every RedisErrors entry is documented in
// docs/redis.md with its exact text, texts are unique, and every command in the table is listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RedisErrors, redisError } from '../../src/core/errors.js';
import { COMMAND_FAMILIES } from '../../src/resp/commands/table.js';

const DOC = readFileSync(resolve(import.meta.dirname, '../../../docs/redis.md'), 'utf8');

test('every RedisErrors entry is documented in docs/redis.md with its exact text', () => {
  for (const [name, text] of Object.entries(RedisErrors)) {
    const row = DOC.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    assert.ok(row, `docs/redis.md has no row for ${name}`);
    assert.ok(row.includes(`\`${text.replace(/\|/g, '\\|')}\``), `${name}: text differs from the doc`);
  }
});

test('Redis error texts are unique and start with an upper-case code', () => {
  const texts = Object.values(RedisErrors);
  assert.equal(new Set(texts).size, texts.length);
  for (const t of texts) assert.match(t, /^[A-Z]+ /);
  assert.equal(redisError(RedisErrors.WrongArity, { cmd: 'x\r\ny' }), "ERR wrong number of arguments for 'x  y' command");
});

test('every command of the table is listed in docs/redis.md', () => {
  for (const family of COMMAND_FAMILIES) {
    for (const s of family) assert.ok(DOC.includes(`| \`${s.name.toUpperCase()}\` |`), `${s.name} is not in docs/redis.md`);
  }
});
