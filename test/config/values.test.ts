import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closest,
  formatDuration,
  formatSize,
  formatSync,
  parseGoDuration,
  parseIntText,
  parseSizeText,
  parseSyncText,
  splitHostPort,
} from '../../src/config/values.js';

test('parseGoDuration reads Go duration syntax into milliseconds', () => {
  const cases: [string, number | undefined][] = [
    ['2m', 120_000],
    ['10s', 10_000],
    ['200ms', 200],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['500us', 0.5],
    ['1000000ns', 1],
    ['0', 0],
    ['-1s', -1000],
    ['+2s', 2000],
    [' 3s ', 3000],
    ['', undefined],
    ['5', undefined],
    ['1d', undefined],
    ['s', undefined],
    ['1s2', undefined],
    ['1 s', undefined],
    ['--1s', undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
});

test('parseSizeText: plain bytes or binary suffixes in any case', () => {
  const cases: [string, number | undefined][] = [
    ['0', 0],
    ['1024', 1024],
    ['1K', 1024],
    ['1kb', 1024],
    ['1KiB', 1024],
    ['1M', 1048576],
    ['8MB', 8 * 1048576],
    ['1 MB', 1048576],
    ['2G', 2 * 1024 ** 3],
    ['1TB', 1024 ** 4],
    ['-1', -1],
    ['7b', 7],
    ['', undefined],
    ['MB', undefined],
    ['1.5MB', undefined],
    ['1XB', undefined],
    ['1constructor', undefined],
    ['99999999PB', undefined],
  ];
  for (const [text, n] of cases) assert.equal(parseSizeText(text), n, text);
});

test('parseSyncText: always, never or a positive interval', () => {
  assert.deepEqual(parseSyncText('always'), { kind: 'always' });
  assert.deepEqual(parseSyncText(' Never '), { kind: 'never' });
  assert.deepEqual(parseSyncText('250ms'), { kind: 'interval', ms: 250 });
  for (const bad of ['0s', '-1s', 'sometimes', '', '100']) assert.equal(parseSyncText(bad), undefined, bad);
});

test('splitHostPort follows net.SplitHostPort', () => {
  assert.deepEqual(splitHostPort('127.0.0.1:4222'), { host: '127.0.0.1', port: 4222 });
  assert.deepEqual(splitHostPort('[::1]:-1'), { host: '::1', port: -1 });
  assert.deepEqual(splitHostPort(':80'), { host: '', port: 80 });
  for (const bad of ['nohost', '::1:80', '[::1]80', 'h:', 'h:x', '[::1']) assert.equal(splitHostPort(bad), undefined, bad);
});

test('parseIntText accepts whole decimal numbers only', () => {
  assert.equal(parseIntText('42'), 42);
  assert.equal(parseIntText('-1'), -1);
  for (const bad of ['', '1.0', '0x10', '1e3', 'x', '99999999999999999999']) assert.equal(parseIntText(bad), undefined, bad);
});

test('formatters render defaults for help text', () => {
  assert.equal(formatDuration(120_000), '2m');
  assert.equal(formatDuration(2000), '2s');
  assert.equal(formatDuration(7_200_000), '2h');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatSize(1048576), '1MB');
  assert.equal(formatSize(4096), '4KB');
  assert.equal(formatSize(1000), '1000');
  assert.equal(formatSize(-1), 'unlimited');
  assert.equal(formatSync({ kind: 'interval', ms: 200 }), '200ms');
  assert.equal(formatSync({ kind: 'always' }), 'always');
});

test('closest offers typo-sized hints only', () => {
  assert.equal(closest('prot', ['port', 'host']), 'port');
  assert.equal(closest('max_paylod', ['max_payload', 'max_pending']), 'max_payload');
  assert.equal(closest('e', ['net', 'port']), undefined);
  assert.equal(closest('completely_different', ['port']), undefined);
  assert.equal(closest('x'.repeat(1000), ['port']), undefined);
});
