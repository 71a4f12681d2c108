import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advantage, fmtNum, fmtRate, fmtRatio, median, percentile, ratio, spread } from '../../src/bench/lib/stats.js';

test('percentile uses the nearest rank and ignores non-finite samples', () => {
  const xs = [5, 1, 4, 2, 3, Number.NaN];
  assert.equal(percentile(xs, 0), 1);
  assert.equal(percentile(xs, 20), 1);
  assert.equal(percentile(xs, 50), 3);
  assert.equal(percentile(xs, 90), 5);
  assert.equal(percentile(xs, 100), 5);
  assert.ok(Number.isNaN(percentile([], 50)));
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(hundred, 99), 99);
  assert.equal(percentile(hundred, 99.9), 100);
});

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
});

test('spread gives median, min, max and n', () => {
  assert.deepEqual(spread([934, 1087, 975]), { median: 975, min: 934, max: 1087, n: 3 });
  assert.equal(spread([]), null);
  assert.equal(spread([Number.NaN]), null);
});

test('ratio and advantage handle missing values and direction', () => {
  assert.equal(ratio(2, 4), 0.5);
  assert.equal(ratio(1, 0), null);
  assert.equal(ratio(null, 1), null);
  assert.equal(ratio(1, undefined), null);
  // Throughput: higher is better, so herald/peer.
  assert.equal(advantage(200, 100, true), 2);
  // Latency: lower is better, so peer/herald.
  assert.equal(advantage(50, 100, false), 2);
  assert.equal(advantage(null, 100, false), null);
});

test('formatters', () => {
  assert.equal(fmtRate(975_123), '975k');
  assert.equal(fmtRate(1_050_000), '1.05M');
  assert.equal(fmtRate(12_345_678), '12.3M');
  assert.equal(fmtRate(2_500), '2.5k');
  assert.equal(fmtRate(812), '812');
  assert.equal(fmtRate(null), '–');
  assert.equal(fmtNum(0.30712), '0.307');
  assert.equal(fmtNum(254.4), '254');
  assert.equal(fmtNum(3089), '3,089');
  assert.equal(fmtNum(0), '0');
  assert.equal(fmtRatio(1.234), '1.23×');
  assert.equal(fmtRatio(12.34), '12.3×');
  assert.equal(fmtRatio(null), '–');
});
