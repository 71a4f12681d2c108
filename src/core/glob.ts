/**
 * Redis glob patterns, as PSUBSCRIBE and KEYS read them (Redis util.c, `stringmatchlen`; the
 * PSUBSCRIBE page of the Redis docs): `*` any run of characters (also none), `?` any one
 * character, `[abc]` one of a set with `a-z` ranges (reversed ranges count too), `[^…]` its
 * complement, `\x` the character x (also inside a set). Redis quirks kept: a `[` that is never
 * closed takes the rest of the pattern as its set; a lone `\` at the end of the pattern (or of a
 * set) is a literal backslash; `]` right after `[` closes an empty set (that matches nothing, or
 * everything as `[^]`).
 *
 * Each pattern element other than `*` consumes exactly one character, so one backtracking point
 * (the last `*`) is enough: matching costs O(pattern × subject) in the worst case, O(subject)
 * typically, and allocates nothing. Characters are UTF-16 code units; for ASCII names this is
 * Redis's byte semantics exactly (a door that needs byte semantics for other names decodes them
 * as latin1, one character per byte).
 */

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;

/** True when `s` holds a character a glob treats specially (`*`, `?`, `[`, `\`). */
export function isGlobPattern(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === STAR || c === QUESTION || c === OPEN || c === BACKSLASH) return true;
  }
  return false;
}

/**
 * Where the set starting at `p` (just after `[`) ends: the index of its `]`, or the pattern's
 * length when it is never closed. Escapes skip the next character.
 */
function setEnd(pattern: string, p: number): number {
  const n = pattern.length;
  if (p < n && pattern.charCodeAt(p) === CARET) p++;
  while (p < n) {
    const c = pattern.charCodeAt(p);
    if (c === CLOSE) return p;
    if (c === BACKSLASH && p + 1 < n) p += 2;
    else if (p + 2 < n && pattern.charCodeAt(p + 1) === DASH) p += 3;
    else p++;
  }
  return n;
}

/** True when character `c` is in the set between `from` (just after `[`) and `end` (its `]`). */
function inSet(pattern: string, from: number, end: number, c: number): boolean {
  let p = from;
  const negate = p < end && pattern.charCodeAt(p) === CARET;
  if (negate) p++;
  let found = false;
  while (p < end) {
    const a = pattern.charCodeAt(p);
    if (a === BACKSLASH && p + 1 < pattern.length) {
      if (pattern.charCodeAt(p + 1) === c) found = true;
      p += 2;
    } else if (p + 2 < pattern.length && pattern.charCodeAt(p + 1) === DASH) {
      // A range may reach over the set's end when `]` is its upper bound: `[a-]]`… as in Redis,
      // the three characters `x-y` are read as a range whatever y is.
      let lo = a;
      let hi = pattern.charCodeAt(p + 2);
      if (lo > hi) [lo, hi] = [hi, lo];
      if (c >= lo && c <= hi) found = true;
      p += 3;
    } else {
      if (a === c) found = true;
      p++;
    }
  }
  return found !== negate;
}

/** True when the whole of `subject` matches the Redis glob `pattern`. */
export function globMatches(pattern: string, subject: string): boolean {
  const pn = pattern.length;
  const sn = subject.length;
  let p = 0;
  let s = 0;
  let starP = -1; // pattern index just after the last `*` seen
  let starS = 0; // subject index that `*` currently stops at
  while (true) {
    if (s === sn) {
      // The subject is used up: only `*`s may remain.
      while (p < pn && pattern.charCodeAt(p) === STAR) p++;
      return p >= pn;
    }
    if (p < pn) {
      const c = pattern.charCodeAt(p);
      if (c === STAR) {
        while (p < pn && pattern.charCodeAt(p) === STAR) p++;
        if (p === pn) return true;
        starP = p;
        starS = s;
        continue;
      }
      let next = -1; // pattern index after this element when it matches subject[s]
      const ch = subject.charCodeAt(s);
      if (c === QUESTION) next = p + 1;
      else if (c === OPEN) {
        const end = setEnd(pattern, p + 1);
        if (inSet(pattern, p + 1, end, ch)) next = end < pn ? end + 1 : pn;
      } else if (c === BACKSLASH && p + 1 < pn) {
        if (pattern.charCodeAt(p + 1) === ch) next = p + 2;
      } else if (c === ch) next = p + 1;
      if (next >= 0) {
        p = next;
        s++;
        continue;
      }
    }
    // Mismatch (or pattern used up with subject left): let the last `*` take one more character.
    if (starP < 0) return false;
    p = starP;
    s = ++starS;
  }
}
