// The error catalogue discipline: every NATS protocol error is documented in docs/errors.md, and
// catalogue texts are unique (one name per wire string).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NatsErrors, JsErrors, jsError, natsErrLine } from '../../src/core/errors.js';

const DOC = readFileSync(resolve(import.meta.dirname, '../../../docs/errors.md'), 'utf8');

test('every NatsErrors entry is documented with its exact text and fatality', () => {
  for (const [name, e] of Object.entries(NatsErrors)) {
    const row = DOC.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    assert.ok(row, `docs/errors.md has no row for ${name}`);
    assert.ok(row.includes(`\`${e.text}\``), `${name}: text differs from the doc`);
    assert.ok(row.includes(e.fatal ? '| yes |' : '| no |'), `${name}: fatality differs from the doc`);
  }
});

test('wire texts are unique and well-formed', () => {
  const texts = Object.values(NatsErrors).map((e) => e.text);
  assert.equal(new Set(texts).size, texts.length);
  assert.equal(natsErrLine(NatsErrors.InvalidSubject), "-ERR 'Invalid Subject'\r\n");
  const codes = Object.values(JsErrors).map((e) => e.err_code);
  assert.equal(new Set(codes).size, codes.length, 'err_code values are unique');
});

test('jsError fills placeholders and leaves unknown ones alone', () => {
  const e = jsError(JsErrors.StreamWrongLastSequenceErrF, { seq: 7 });
  assert.deepEqual(e, { code: 400, err_code: 10071, description: 'wrong last sequence: 7' });
  assert.equal(jsError({ code: 1, err_code: 2, description: '{a} {b}' }, { a: 'x' }).description, 'x {b}');
});
