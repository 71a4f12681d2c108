/**
 * Subject syntax, shared by every door: a subject is a `.`-separated list of non-empty tokens with
 * no whitespace. `*` (one token) and `>` (one or more tokens, last only) are wildcards when they
 * form a whole token. specs/nats.md §1 "Subjects, queues, no-responders".
 */

const DOT = 0x2e;
const STAR = 0x2a;
const GT = 0x3e;

/** The whitespace nats-server (2.10+) refuses inside subscription subjects: space, \t, \n, \f, \r. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c;
}

/** Space, tab, CR, LF: what a NATS protocol line cannot carry inside a subject. */
function isLineSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * One pass over `s`: false on an empty token, on whitespace (`subscription`: any nats-server
 * refuses in a SUB; otherwise what a protocol line cannot carry), or (`subscription`) on a `>`
 * token that is not the last.
 */
function tokensOk(s: string, subscription: boolean): boolean {
  const n = s.length;
  if (n === 0) return false;
  let tokenStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? DOT : s.charCodeAt(i);
    if (c === DOT) {
      const len = i - tokenStart;
      if (len === 0) return false;
      // A full wildcard must be the last token.
      if (subscription && len === 1 && s.charCodeAt(tokenStart) === GT && i !== n) return false;
      tokenStart = i + 1;
    } else if (subscription ? isSpace(c) : isLineSpace(c)) {
      return false;
    }
  }
  return true;
}

/** True when `s` is a valid subscription subject (wildcards allowed, `>` only as the last token). */
export function isValidSubject(s: string): boolean {
  return tokensOk(s, true);
}

/**
 * True when `s` may be published to in pedantic mode: no empty token and no wildcard token. As in
 * nats-server, whitespace is not checked here (the protocol cannot carry it in a PUB subject).
 */
export function isValidLiteralSubject(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  let tokenStart = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && s.charCodeAt(i) !== DOT) continue;
    const len = i - tokenStart;
    if (len === 0) return false;
    if (len === 1) {
      const c = s.charCodeAt(tokenStart);
      if (c === STAR || c === GT) return false;
    }
    tokenStart = i + 1;
  }
  return true;
}

/**
 * True when a published subject `s` can reach NATS-pattern subscriptions: no empty token and no
 * space, tab, CR or LF (what a NATS PUB line can carry; nats-server matches nothing for
 * `foo..bar`). Wildcard tokens are allowed, as nats-server routes a non-pedantic PUB to `foo.*`.
 */
export function isNatsRoutable(s: string): boolean {
  return tokensOk(s, false);
}

/** True when any whole token of `s` is `*` or `>`. */
export function hasWildcard(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c === STAR || c === GT) && (i === 0 || s.charCodeAt(i - 1) === DOT) && (i + 1 === n || s.charCodeAt(i + 1) === DOT)) {
      return true;
    }
  }
  return false;
}

/**
 * True when the literal subject `subject` is matched by `pattern` (which may hold wildcards).
 * Costs one pass over both strings and allocates nothing.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  let pi = 0;
  let si = 0;
  const pn = pattern.length;
  const sn = subject.length;
  while (pi < pn) {
    if (si >= sn) return false;
    let pe = pattern.indexOf('.', pi);
    if (pe < 0) pe = pn;
    let se = subject.indexOf('.', si);
    if (se < 0) se = sn;
    const plen = pe - pi;
    if (plen === 1 && pattern.charCodeAt(pi) === GT) return true; // matches the rest (≥1 token)
    if (!(plen === 1 && pattern.charCodeAt(pi) === STAR)) {
      if (plen !== se - si || !pattern.startsWith(subject.slice(si, se), pi)) return false;
    }
    pi = pe + 1;
    si = se + 1;
  }
  return si > sn; // both exhausted at the same token boundary
}

/**
 * True when some literal subject could be matched by both patterns. Used for stream subject
 * overlap detection (JetStream error 10065).
 */
export function subjectsCollide(a: string, b: string): boolean {
  const at = a.split('.');
  const bt = b.split('.');
  const n = Math.max(at.length, bt.length);
  for (let i = 0; i < n; i++) {
    const x = at[i];
    const y = bt[i];
    if (x === '>' || y === '>') return x !== undefined && y !== undefined ? true : false;
    if (x === undefined || y === undefined) return false;
    if (x === '*' || y === '*') continue;
    if (x !== y) return false;
  }
  return true;
}

/**
 * True when every subject matched by `sub` is also matched by `sup` (`sup` is a superset).
 */
export function subjectIsSubsetOf(sub: string, sup: string): boolean {
  const st = sub.split('.');
  const pt = sup.split('.');
  for (let i = 0; i < pt.length; i++) {
    const p = pt[i];
    if (p === '>') return i < st.length;
    const s = st[i];
    if (s === undefined) return false;
    if (p === '*') {
      if (s === '>') return false;
      continue;
    }
    if (s !== p) return false;
  }
  return st.length === pt.length;
}
