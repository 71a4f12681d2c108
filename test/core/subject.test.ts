import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isValidSubject,
  isValidLiteralSubject,
  subjectMatches,
  subjectsCollide,
  subjectIsSubsetOf,
} from '../../src/core/subject.js';

test('valid subscription subjects', () => {
  for (const s of ['foo', 'foo.bar', 'foo.*', '*', '>', 'foo.>', 'foo.*.bar', 'a*.b', '$JS.API.>', '_INBOX.x.*'])
    assert.equal(isValidSubject(s), true, s);
  for (const s of ['', '.', 'foo.', '.foo', 'foo..bar', 'foo bar', 'foo\tbar', '>.foo', 'foo.>.bar'])
    assert.equal(isValidSubject(s), false, JSON.stringify(s));
});

test('literal subjects have no wildcard tokens', () => {
  assert.equal(isValidLiteralSubject('foo.bar'), true);
  assert.equal(isValidLiteralSubject('foo*.bar'), true); // `*` inside a token is a literal
  assert.equal(isValidLiteralSubject('foo.*'), false);
  assert.equal(isValidLiteralSubject('foo.>'), false);
});

test('subjectMatches follows * and > semantics', () => {
  const cases: [string, string, boolean][] = [
    ['foo', 'foo', true],
    ['foo', 'foo.bar', false],
    ['foo.*', 'foo.bar', true],
    ['foo.*', 'foo', false],
    ['foo.*', 'foo.bar.baz', false],
    ['foo.>', 'foo.bar.baz', true],
    ['foo.>', 'foo', false],
    ['>', 'a', true],
    ['*.b.>', 'a.b.c.d', true],
    ['*.b.>', 'a.c.c', false],
    ['a.b', 'a.bc', false],
    ['a.bc', 'a.b', false],
  ];
  for (const [p, s, want] of cases) assert.equal(subjectMatches(p, s), want, `${p} ~ ${s}`);
});

test('subjectsCollide and subjectIsSubsetOf', () => {
  assert.equal(subjectsCollide('foo.*', 'foo.bar'), true);
  assert.equal(subjectsCollide('foo.>', 'foo'), false);
  assert.equal(subjectsCollide('foo.*', '*.bar'), true);
  assert.equal(subjectsCollide('a.b', 'a.c'), false);
  assert.equal(subjectsCollide('>', 'x.y.z'), true);
  assert.equal(subjectIsSubsetOf('foo.bar', 'foo.*'), true);
  assert.equal(subjectIsSubsetOf('foo.*', 'foo.>'), true);
  assert.equal(subjectIsSubsetOf('foo.>', 'foo.*'), false);
  assert.equal(subjectIsSubsetOf('foo', 'foo.>'), false);
});
