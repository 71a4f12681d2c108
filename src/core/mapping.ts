/**
 * Subject mappings (nats-server `mappings { }`, top level for `$G` or inside an account): a
 * published subject matching a mapping's source is rewritten before the account's router matches
 * it, to one destination or, with weights, to one of several chosen at random per message.
 * Protocol-free; the config reader builds MappingSpecs and the router asks `map()`.
 *
 * Destinations follow nats-server 2.9 (accounts.go, AddWeightedMappings / newTransform /
 * transform; sublist.go, ValidateMappingDestination): `$n` and `{{wildcard(n)}}` take the n-th
 * `*` of the source, `>` takes the tail, and the mustache functions `partition`, `split`,
 * `splitFromLeft/Right`, `sliceFromLeft/Right` work on one token. Errors carry nats-server's
 * text. Weights below 100 in total keep the rest for the source subject itself, unless the
 * source is listed as a destination (then the rest is dropped), as nats-server does.
 */
import { isValidSubject, subjectMatches } from './subject.js';

/** One destination of a mapping; `weight` in percent (0–100). */
export interface MapDest {
  readonly subject: string;
  readonly weight: number;
}

/** One mapping as configured: source pattern and destinations (a plain `from: to` is one at 100). */
export interface MappingSpec {
  readonly from: string;
  readonly to: readonly MapDest[];
}

/** A mapping nats-server would refuse; `message` is nats-server's error text. */
export class MappingError extends Error {}

/** nats-server errors.go texts. */
const E = {
  badSubject: 'invalid subject',
  destSubject: 'invalid mapping destination: invalid subject',
  notAllWildcards: 'invalid mapping destination: not using all of the token wildcard(s)',
  unknownFn: 'invalid mapping destination: unknown function',
  indexRange: 'invalid mapping destination: wildcard index out of range',
  notEnoughArgs: 'invalid mapping destination: not enough arguments passed to the function',
  badArg: 'invalid mapping destination: function argument is invalid or in the wrong format',
  tooManyArgs: 'invalid mapping destination: too many arguments passed to the function',
} as const;

/** nats-server mappingDestinationErr: "<err> in <token>". */
const destErr = (err: string, token: string): MappingError => new MappingError(`${err} in ${token}`);

type Fn =
  'literal' | 'wildcard' | 'partition' | 'splitFromLeft' | 'splitFromRight' | 'sliceFromLeft' | 'sliceFromRight' | 'split';

/** One destination token: a literal, or a function of source tokens (indexes into the subject's tokens). */
interface DestToken {
  readonly fn: Fn;
  readonly text: string;
  readonly src: readonly number[];
  readonly n: number;
  readonly sep: string;
}

/** nats-server accounts.go's mapping-function regular expressions (names case-insensitive in their first letters). */
const FUNCTIONS: readonly [Fn, RegExp][] = [
  ['wildcard', /^\{\{\s*[wW]ildcard\s*\((.*)\)\s*\}\}$/],
  ['partition', /^\{\{\s*[pP]artition\s*\((.*)\)\s*\}\}$/],
  ['splitFromLeft', /^\{\{\s*[sS]plit[fF]rom[lL]eft\s*\((.*)\)\s*\}\}$/],
  ['splitFromRight', /^\{\{\s*[sS]plit[fF]rom[rR]ight\s*\((.*)\)\s*\}\}$/],
  ['sliceFromLeft', /^\{\{\s*[sS]lice[fF]rom[lL]eft\s*\((.*)\)\s*\}\}$/],
  ['sliceFromRight', /^\{\{\s*[sS]lice[fF]rom[rR]ight\s*\((.*)\)\s*\}\}$/],
  ['split', /^\{\{\s*[sS]plit\s*\((.*)\)\s*\}\}$/],
];

const isMustache = (t: string): boolean => t.length > 4 && t.startsWith('{{') && t.endsWith('}}');

/** Go's strconv.Atoi after trimming spaces. */
function atoi(s: string): number | null {
  const t = s.trim();
  return /^[+-]?\d+$/.test(t) ? Number(t) : null;
}

/** nats-server indexPlaceHolders: what one destination token asks for (wildcard indexes are 1-based here). */
function placeholder(token: string): { fn: Fn; idx: number[]; n: number; sep: string } {
  if (token.length > 1 && token[0] === '$') {
    const n = atoi(token.slice(1));
    // Other things rely on tokens starting with $: not a number means a literal.
    return n === null || token.slice(1).trim() !== token.slice(1) ? literalPh() : { fn: 'wildcard', idx: [n], n: -1, sep: '' };
  }
  if (!isMustache(token)) return literalPh();
  for (const [fn, re] of FUNCTIONS) {
    const m = re.exec(token);
    if (m === null) continue;
    const args = m[1]!.split(/,\s*/);
    if (fn === 'wildcard') {
      if (args.length === 1 && args[0] === '') throw destErr(E.notEnoughArgs, token);
      if (args.length > 1) throw destErr(E.tooManyArgs, token);
      const i = atoi(args[0]!);
      if (i === null) throw destErr(E.badArg, token);
      return { fn, idx: [i], n: -1, sep: '' };
    }
    if (fn === 'partition') {
      if (args.length < 2) throw destErr(E.notEnoughArgs, token);
      const n = atoi(args[0]!);
      const idx = args.slice(1).map(atoi);
      if (n === null || idx.some((i) => i === null)) throw destErr(E.badArg, token);
      return { fn, idx: idx as number[], n, sep: '' };
    }
    if (args.length < 2) throw destErr(E.notEnoughArgs, token);
    if (args.length > 2) throw destErr(E.tooManyArgs, token);
    const i = atoi(args[0]!);
    if (i === null) throw destErr(E.badArg, token);
    if (fn === 'split') {
      if (args[1]!.includes(' ') || args[1]!.includes('.')) throw destErr(E.badArg, token);
      return { fn, idx: [i], n: -1, sep: args[1]! };
    }
    const n = atoi(args[1]!);
    if (n === null) throw destErr(E.badArg, token);
    return { fn, idx: [i], n, sep: '' };
  }
  throw destErr(E.unknownFn, token);
}

function literalPh(): { fn: Fn; idx: number[]; n: number; sep: string } {
  return { fn: 'literal', idx: [], n: -1, sep: '' };
}

/** nats-server sublist.go ValidateMappingDestination. */
export function validateMappingDestination(subject: string): void {
  let sawFwc = false;
  for (const t of subject.split('.')) {
    if (t.length === 0 || sawFwc) throw destErr(E.destSubject, t);
    if (isMustache(t)) {
      if (!FUNCTIONS.some(([, re]) => re.test(t))) throw destErr(E.unknownFn, t);
      continue;
    }
    if (t === '>') sawFwc = true;
    else if (/[\t\n\f\r ]/.test(t)) throw new MappingError(E.destSubject);
  }
}

/** nats-server sublist.go subjectInfo's validity: no empty token, `>` only last (whitespace is checked elsewhere). */
function tokensValid(tokens: readonly string[]): boolean {
  return tokens.every((t, i) => t.length > 0 && (t !== '>' || i === tokens.length - 1));
}

/** A compiled source → destination rewrite (nats-server `transform`). */
export class Transform {
  private readonly tokens: readonly DestToken[];
  private readonly srcLen: number;
  private readonly tail: boolean;

  /** Throws MappingError with nats-server's text when `dest` cannot be a destination of `src`. */
  constructor(
    readonly src: string,
    readonly dest: string,
  ) {
    const stoks = src.split('.');
    const dtoks = dest.split('.');
    const pwcs = stoks.filter((t) => t === '*').length;
    const fwc = stoks[stoks.length - 1] === '>';
    if (!isValidSubject(src) || !tokensValid(dtoks) || dtoks.includes('*') || fwc !== (dtoks[dtoks.length - 1] === '>')) {
      throw new MappingError(E.badSubject);
    }
    this.srcLen = stoks.length;
    this.tail = fwc;
    const out: DestToken[] = [];
    if (pwcs > 0 || fwc) {
      // Position in the subject of the n-th `*` of the source.
      const where: number[] = [];
      stoks.forEach((t, i) => t === '*' && where.push(i));
      let placeholders = 0;
      for (const t of dtoks) {
        const ph = placeholder(t);
        if (ph.fn === 'literal') {
          out.push({ fn: 'literal', text: t, src: [], n: -1, sep: '' });
          continue;
        }
        placeholders++;
        for (const i of ph.idx) if (i > pwcs) throw destErr(E.indexRange, `${t}: [${i}]`);
        out.push({ fn: ph.fn, text: t, src: ph.idx.map((i) => where[i - 1] ?? 0), n: ph.n, sep: ph.sep });
      }
      if (placeholders < pwcs) throw destErr(E.notAllWildcards, dest);
    }
    this.tokens = out.some((t) => t.fn !== 'literal') ? out : [];
  }

  /** The destination for `tokens`, the published subject's tokens (it matched the source). */
  apply(tokens: readonly string[]): string {
    if (this.tokens.length === 0) {
      if (!this.tail) return this.dest;
      // Only literals and a trailing `>`: keep the literal head, append the subject's tail.
      const head = this.dest.slice(0, -1);
      return head + tokens.slice(this.srcLen - 1).join('.');
    }
    const parts: string[] = [];
    for (const d of this.tokens) {
      if (d.fn === 'literal') {
        if (d.text === '>') break;
        parts.push(d.text);
        continue;
      }
      const tok = tokens[d.src[0]!] ?? '';
      parts.push(applyFn(d, tok, tokens));
    }
    let out = parts.join('.');
    if (this.tail) out += (out === '' ? '' : '.') + tokens.slice(this.srcLen - 1).join('.');
    return out;
  }
}

function applyFn(d: DestToken, tok: string, tokens: readonly string[]): string {
  const len = tok.length;
  switch (d.fn) {
    case 'wildcard':
      return tok;
    case 'partition': {
      const key = d.src.map((i) => tokens[i] ?? '').join('');
      return String(fnv1a32(Buffer.from(key)) % d.n);
    }
    case 'splitFromLeft':
      return d.n > 0 && d.n < len ? `${tok.slice(0, d.n)}.${tok.slice(d.n)}` : tok;
    case 'splitFromRight':
      return d.n > 0 && d.n < len ? `${tok.slice(0, len - d.n)}.${tok.slice(len - d.n)}` : tok;
    case 'sliceFromLeft': {
      if (!(d.n > 0 && d.n < len)) return tok;
      const out: string[] = [];
      for (let i = 0; i < len; i += d.n) out.push(tok.slice(i, i + d.n));
      return out.join('.');
    }
    case 'sliceFromRight': {
      if (!(d.n > 0 && d.n < len)) return tok;
      const out: string[] = [];
      const r = len % d.n;
      if (r > 0) out.push(tok.slice(0, r));
      for (let i = r; i < len; i += d.n) out.push(tok.slice(i, i + d.n));
      return out.join('.');
    }
    case 'split':
      return tok
        .split(d.sep)
        .filter((s) => s !== '')
        .join('.');
    default:
      return d.text;
  }
}

/** 32-bit FNV-1a, as nats-server's getHashPartition (hash/fnv New32a). */
function fnv1a32(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Subjects whose mapping result is remembered per account: a hot subject then costs one Map
 * look-up instead of a tokenise-and-join (1–2 µs measured), and the router's sublist cache sees
 * the same string again. Past it the cache is cleared, so memory stays bounded (~0.5 MB).
 */
const MAP_CACHE_MAX = 4096;

/** A compiled mapping: its destinations with cumulative weights, lightest first (nats-server processDestinations). */
interface Compiled {
  readonly from: string;
  readonly wildcard: boolean;
  readonly dests: readonly { tr: Transform; upTo: number }[];
}

/**
 * Checks and compiles one mapping as nats-server's AddWeightedMappings; throws MappingError with
 * its text (duplicate destination, weights over 100, a bad destination).
 */
function compile(spec: MappingSpec): Compiled {
  if (!isValidSubject(spec.from)) throw new MappingError(E.badSubject);
  const wildcard = spec.from.split('.').some((t) => t === '*' || t === '>');
  const seen = new Set<string>();
  const dests: { tr: Transform; weight: number }[] = [];
  let total = 0;
  for (const d of spec.to) {
    if (seen.has(d.subject)) throw new MappingError(`duplicate entry for ${JSON.stringify(d.subject)}`);
    seen.add(d.subject);
    if (d.weight > 100) throw new MappingError('individual weights need to be <= 100');
    total += d.weight;
    if (total > 100) throw new MappingError('total weight needs to be <= 100');
    validateMappingDestination(d.subject);
    dests.push({ tr: new Transform(spec.from, d.subject), weight: d.weight });
  }
  if (total !== 100 && !seen.has(spec.from)) {
    // The rest of the weight keeps the source subject (each `*` carried over as $n).
    let n = 0;
    const self = wildcard
      ? spec.from
          .split('.')
          .map((t) => (t === '*' ? `$${++n}` : t))
          .join('.')
      : spec.from;
    dests.push({ tr: new Transform(spec.from, self), weight: dests.length === 0 ? 100 : 100 - total });
  }
  dests.sort((a, b) => a.weight - b.weight);
  let upTo = 0;
  return { from: spec.from, wildcard, dests: dests.map((d) => ({ tr: d.tr, upTo: (upTo += d.weight) })) };
}

/** Throws MappingError (nats-server's text) when `spec` would be refused; the config reader calls it. */
export function checkMapping(spec: MappingSpec): void {
  compile(spec);
}

/**
 * One account's mappings, compiled. `map(subject)` returns the subject to route instead, the same
 * subject when no mapping applies, or null when a weighted mapping chose to drop the message.
 * Costs one Map look-up for a literal source; a wildcard source is matched in config order
 * (nats-server keeps them in a Go map, so its order among overlapping sources is unspecified).
 * The first matching mapping wins.
 */
export class SubjectMappings {
  private readonly literal = new Map<string, Compiled>();
  private readonly ordered: Compiled[] = [];
  /** Results of deterministic look-ups (no mapping, or one destination at 100 %), bounded by MAP_CACHE_MAX. */
  private readonly cache = new Map<string, string>();

  constructor(
    readonly specs: readonly MappingSpec[],
    /** A number in [0, 1): tests pass a seeded one. */
    private readonly random: () => number = Math.random,
  ) {
    for (const s of specs) {
      const c = compile(s);
      this.ordered.push(c);
      if (!c.wildcard && !this.literal.has(c.from)) this.literal.set(c.from, c);
    }
  }

  map(subject: string): string | null {
    const cached = this.cache.get(subject);
    if (cached !== undefined) return cached;
    let m = this.literal.get(subject);
    if (m === undefined) {
      for (const c of this.ordered) {
        if (c.wildcard && subjectMatches(c.from, subject)) {
          m = c;
          break;
        }
      }
      if (m === undefined) return this.remember(subject, subject);
    }
    const dests = m.dests;
    let d = dests[0]!;
    if (dests.length > 1 || d.upTo !== 100) {
      const w = Math.floor(this.random() * 100);
      const hit = dests.find((x) => w < x.upTo);
      if (hit === undefined) return null;
      d = hit;
      return d.tr.apply(subject.split('.'));
    }
    return this.remember(subject, d.tr.apply(subject.split('.')));
  }

  private remember(subject: string, to: string): string {
    if (this.cache.size >= MAP_CACHE_MAX) this.cache.clear();
    this.cache.set(subject, to);
    return to;
  }
}
