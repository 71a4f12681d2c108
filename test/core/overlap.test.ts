import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstCollision, listsCollide, TooManyWildcardsError } from '../../src/core/overlap.js';
import { subjectsCollide } from '../../src/core/subject.js';

/** The quadratic reference the fast checks must agree with. */
function naiveFirst(list: string[]): [number, number] | null {
  for (let i = 0; i < list.length; i++)
    for (let j = i + 1; j < list.length; j++) if (subjectsCollide(list[i], list[j])) return [i, j];
  return null;
}

test('firstCollision and listsCollide agree with pairwise checks (randomized)', () => {
  const toks = ['a', 'b', '*'];
  const rnd = (n: number) => Math.floor(Math.random() * n);
  const gen = () => {
    const n = 1 + rnd(3);
    const t = Array.from({ length: n }, () => toks[rnd(3)]);
    if (rnd(6) === 0) t[n - 1] = '>';
    return t.join('.');
  };
  for (let k = 0; k < 500; k++) {
    const list = Array.from({ length: 1 + rnd(6) }, gen);
    assert.deepEqual(firstCollision(list), naiveFirst(list), JSON.stringify(list));
    const other = [...new Set(Array.from({ length: 1 + rnd(4) }, gen))];
    const want = list.some((x) => other.some((y) => subjectsCollide(x, y)));
    assert.equal(listsCollide(list, other), want, `${JSON.stringify(list)} vs ${JSON.stringify(other)}`);
  }
});

test('many literal subjects are checked quickly; too many wildcard pairs are refused', () => {
  const literals = Array.from({ length: 50_000 }, (_, i) => `a${i}`);
  assert.equal(firstCollision(literals), null);
  assert.equal(listsCollide(literals, ['b.*']), false);
  assert.deepEqual(firstCollision([...literals, 'a7', 'x']), [7, 50_000]);
  const wild = Array.from({ length: 3000 }, (_, i) => `w${i}.*`);
  assert.throws(() => firstCollision(wild), TooManyWildcardsError);
});
