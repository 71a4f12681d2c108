// Subject mappings (src/core/mapping.ts), protocol-free: the transforms, weighted choice and the
// refusals, with cases taken from nats-server 2.9's behaviour (accounts_test.go
// TestSubjectTransforms lists the same source/destination/subject triples).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMapping, MappingError, SubjectMappings, Transform } from '../../src/core/mapping.js';

const one = (from: string, to: string): SubjectMappings => new SubjectMappings([{ from, to: [{ subject: to, weight: 100 }] }]);

test('literal, $n, {{wildcard(n)}}, > and the string functions map as nats-server', () => {
  const cases: [string, string, string, string][] = [
    ['foo', 'bar', 'foo', 'bar'],
    ['foo.*.bar.*.baz', 'req.$2.$1', 'foo.A.bar.B.baz', 'req.B.A'],
    ['foo.*.bar.*.baz', 'req.{{wildcard(2)}}.{{ Wildcard( 1 ) }}', 'foo.A.bar.B.baz', 'req.B.A'],
    ['baz.>', 'my.pre.>', 'baz.1.2.3', 'my.pre.1.2.3'],
    ['baz.>', 'foo.bar.>', 'baz.1.2.3', 'foo.bar.1.2.3'],
    ['*.>', 'x.$1.>', 'a.b.c', 'x.a.b.c'],
    ['*', 'foo.bar.$1', 'foo', 'foo.bar.foo'],
    ['*', '{{splitfromleft(1,3)}}', '12345', '123.45'],
    ['*', '{{SplitFromRight(1,3)}}', '12345', '12.345'],
    ['*', '{{SliceFromLeft(1,3)}}', '1234567890', '123.456.789.0'],
    ['*', '{{SliceFromRight(1,3)}}', '1234567890', '1.234.567.890'],
    ['*', '{{split(1,-)}}', '-abc-def--ghi-', 'abc.def.ghi'],
    ['*', '{{split(1,-)}}', 'abc-def--ghi-', 'abc.def.ghi'],
    ['*.*', '{{split(2,-)}}.{{splitfromleft(1,2)}}', 'foo.-abc-def--ghij-', 'abc.def.ghij.fo.o'],
  ];
  for (const [from, to, subject, want] of cases) {
    assert.equal(one(from, to).map(subject), want, `${from} → ${to} on ${subject}`);
  }
  // Subjects the source does not match pass unchanged.
  assert.equal(one('foo.*', 'bar.$1').map('other.x'), 'other.x');
  assert.equal(one('foo.*', 'bar.$1').map('foo.x.y'), 'foo.x.y');
});

test('partition is stable, in range, and spreads keys', () => {
  const m = one('orders.*.*', 'p.{{partition(5,1,2)}}.$1.$2');
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const out = m.map(`orders.c${i}.x`)!;
    assert.equal(out, m.map(`orders.c${i}.x`));
    const [, p, a, b] = out.split('.');
    assert.ok(Number(p) >= 0 && Number(p) < 5, out);
    assert.equal(`${a}.${b}`, `c${i}.x`);
    seen.add(p!);
  }
  assert.equal(seen.size, 5);
});

/** One mapping `from` → weighted destinations. */
const spec = (from: string, dests: [string, number][]): { from: string; to: { subject: string; weight: number }[] } => ({
  from,
  to: dests.map(([subject, weight]) => ({ subject, weight })),
});

test('weights: choice by cumulative weight, remainder kept for the source unless the source is listed', () => {
  let r = 0;
  const rand = (): number => r;
  const m = new SubjectMappings(
    [
      spec('a.*', [
        ['b.$1', 20],
        ['c.$1', 30],
      ]),
    ],
    rand,
  );
  r = 0.1; // w = 10 < 20
  assert.equal(m.map('a.x'), 'b.x');
  r = 0.45; // w = 45: past 20, under 50
  assert.equal(m.map('a.x'), 'c.x');
  r = 0.99; // the remaining 50 keep the subject
  assert.equal(m.map('a.x'), 'a.x');

  const lossy = new SubjectMappings(
    [
      spec('d', [
        ['e', 40],
        ['d', 10],
      ]),
    ],
    rand,
  );
  r = 0.05;
  assert.equal(lossy.map('d'), 'd');
  r = 0.3;
  assert.equal(lossy.map('d'), 'e');
  r = 0.9; // past 50: dropped
  assert.equal(lossy.map('d'), null);
});

test('bad mappings are refused with nats-server text', () => {
  const bad: [string, string, string][] = [
    ['foo.*', 'bar.*', 'invalid subject'],
    ['foo.*', 'bar.$1.>', 'invalid subject'],
    ['foo.>', 'bar.baz', 'invalid subject'],
    ['foo.*.*', 'bar.$2', 'invalid mapping destination: not using all of the token wildcard(s) in bar.$2'],
    ['foo.*', 'bar.$2', 'invalid mapping destination: wildcard index out of range in $2: [2]'],
    ['foo.*', 'foo.{{wildcard(2)}}', 'invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]'],
    ['foo.*', 'foo.{{unimplemented(1)}}', 'invalid mapping destination: unknown function in {{unimplemented(1)}}'],
    [
      'foo.*',
      'foo.{{partition(10)}}',
      'invalid mapping destination: not enough arguments passed to the function in {{partition(10)}}',
    ],
    [
      'foo.*',
      'foo.{{wildcard(foo)}}',
      'invalid mapping destination: function argument is invalid or in the wrong format in {{wildcard(foo)}}',
    ],
    ['foo.*', 'foo.{{wildcard()}}', 'invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}'],
    [
      'foo.*',
      'foo.{{wildcard(1,2)}}',
      'invalid mapping destination: too many arguments passed to the function in {{wildcard(1,2)}}',
    ],
    ['foo..', 'bar', 'invalid subject'],
  ];
  for (const [from, to, text] of bad) {
    assert.throws(
      () => checkMapping({ from, to: [{ subject: to, weight: 100 }] }),
      (e: unknown) => e instanceof MappingError && e.message === text,
      `${from} → ${to} should fail with ${text}`,
    );
  }
  assert.throws(
    () =>
      checkMapping(
        spec('a', [
          ['b', 60],
          ['c', 50],
        ]),
      ),
    /total weight needs to be <= 100/,
  );
  assert.throws(
    () =>
      checkMapping(
        spec('a', [
          ['b', 10],
          ['b', 10],
        ]),
      ),
    /duplicate entry for "b"/,
  );
  // `$foo` is a literal token, not a placeholder: only "not all wildcards used" applies.
  assert.throws(() => new Transform('foo.*', 'foo.$foo'), /not using all of the token wildcard/);
  assert.doesNotThrow(() => new Transform('*', '{{splitfromleft(1,1)}}'));
});

test('a literal source wins by exact match; wildcards are tried in config order', () => {
  const m = new SubjectMappings([
    { from: 'x.*', to: [{ subject: 'w1.$1', weight: 100 }] },
    { from: 'x.>', to: [{ subject: 'w2.>', weight: 100 }] },
    { from: 'x.lit', to: [{ subject: 'lit', weight: 100 }] },
  ]);
  assert.equal(m.map('x.lit'), 'lit');
  assert.equal(m.map('x.a'), 'w1.a');
  assert.equal(m.map('x.a.b'), 'w2.a.b');
});
