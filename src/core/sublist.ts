import { Subscription } from './message.js';
import { hasWildcard, isNatsRoutable, subjectMatches } from './subject.js';
import { globMatches } from './glob.js';

/** Entries kept in the match cache; past this a quarter of it is evicted. Keeps memory bounded
 * under a stream of unique subjects while hot subjects stay cached. */
export const SUBLIST_CACHE_MAX = 4096;

/**
 * What a subject matched: plain subscriptions (each gets a copy) and queue groups (one member of
 * each gets it). Arrays are shared with the cache and never changed once handed out (a cache
 * patch builds new arrays): callers must not mutate them, and may keep them.
 */
export interface MatchResult {
  readonly plain: readonly Subscription[];
  readonly queues: readonly (readonly Subscription[])[];
}

const EMPTY: MatchResult = Object.freeze({ plain: [], queues: [] });

class Level {
  readonly literal = new Map<string, Node>();
  pwc: Node | null = null; // '*'
  fwc: Node | null = null; // '>'
  get empty(): boolean {
    return this.literal.size === 0 && this.pwc === null && this.fwc === null;
  }
}

/** The queue groups of every node that has none, shared and never written: most subscriptions
 * are plain, and an empty Map per subject costs ~100 bytes (bench/memory/subs.mjs). */
const NO_QUEUES: ReadonlyMap<string, Set<Subscription>> = new Map();

class Node {
  next: Level | null = null;
  readonly plain = new Set<Subscription>();
  queues = NO_QUEUES as Map<string, Set<Subscription>>;
  get empty(): boolean {
    return this.plain.size === 0 && this.queues.size === 0 && (this.next === null || this.next.empty);
  }
}

/**
 * The subscription index for every subject kind (SubjectKind in message.ts states the rule):
 * NATS patterns in a token trie with `*` and `>` nodes, literal channel names in a Map, Redis
 * globs in a Map walked in full on a miss (as Redis walks its pattern list). A bounded cache holds
 * match results keyed by published subject. Insert and remove cost O(tokens) in the index; the
 * cache is patched, not dropped (nats-server sublist.go, addToCache / removeFromCache): a literal
 * touches one entry, a NATS pattern the cached subjects that share its first token (all of them
 * when that is a wildcard), a glob every cached subject; the entries it matches get a copy with
 * the subscription added or removed.
 * A cached match costs one Map look-up (~9 ns), a miss ~1 µs plus one `globMatches` per glob
 * subscription (bench/micro).
 */
export class Sublist {
  private readonly root = new Level();
  private readonly literals = new Map<string, Node>();
  private readonly globs = new Map<string, Node>();
  private readonly cache = new Map<string, MatchResult>();
  /** Cached subjects by first token, so a pattern whose first token is literal (`_INBOX.x.*`)
   * patches only the entries that share it instead of testing the whole cache. */
  private readonly cacheByFirst = new Map<string, Set<string>>();
  /** Subject prefixes whose matches are never cached (see `skipCacheUnder`). */
  private readonly uncached: string[] = [];
  /** Interest watchers by the exact subject they watch (see `watchInterest`). */
  private readonly watchers = new Map<string, Set<() => void>>();
  private _count = 0;
  /** Matches served from the cache, and computed, for monitoring. */
  cacheHits = 0;
  matches = 0;
  inserts = 0;
  removes = 0;

  get count(): number {
    return this._count;
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  insert(sub: Subscription): void {
    const n =
      sub.kind === 'nats' ? this.natsNode(sub.subject) : nodeIn(sub.kind === 'literal' ? this.literals : this.globs, sub.subject);
    if (sub.queue === null) n.plain.add(sub);
    else {
      if (n.queues === NO_QUEUES) n.queues = new Map();
      let group = n.queues.get(sub.queue);
      if (group === undefined) n.queues.set(sub.queue, (group = new Set()));
      group.add(sub);
    }
    this._count++;
    this.inserts++;
    this.patchCache(sub, true);
    if (this.watchers.size > 0) this.notifyWatchers(sub);
  }

  /** The trie node for a NATS pattern, created as needed. */
  private natsNode(subject: string): Node {
    const tokens = subject.split('.');
    let level = this.root;
    let node: Node | null = null;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t === '*') node = level.pwc ??= new Node();
      else if (t === '>') node = level.fwc ??= new Node();
      else {
        node = level.literal.get(t) ?? null;
        if (node === null) {
          node = new Node();
          level.literal.set(t, node);
        }
      }
      if (i < tokens.length - 1) level = node.next ??= new Level();
    }
    return node!;
  }

  /** Removes `sub`; returns false when it was not present. */
  remove(sub: Subscription): boolean {
    const removed =
      sub.kind === 'nats' ? this.removeNats(sub) : removeIn(sub.kind === 'literal' ? this.literals : this.globs, sub);
    if (!removed) return false;
    sub.closed = true;
    this._count--;
    this.removes++;
    this.patchCache(sub, false);
    if (this.watchers.size > 0) this.notifyWatchers(sub);
    return true;
  }

  /**
   * Calls `cb` whenever a subscription that a publish on `subject` (a literal) would reach is
   * added or removed, so a holder can re-check `hasInterest` instead of polling (what
   * nats-server's consumer gets from its deliver-subject interest channel, consumer.go
   * updateDeliveryInterest). `cb` runs synchronously inside insert/remove and must not change
   * the sublist; defer real work. Costs nothing while no one watches; with W watched subjects an
   * insert or remove costs one Map look-up for a literal subscription and W `reaches` tests for
   * a wildcard one. Returns the function that stops watching.
   */
  watchInterest(subject: string, cb: () => void): () => void {
    let set = this.watchers.get(subject);
    if (set === undefined) this.watchers.set(subject, (set = new Set()));
    set.add(cb);
    return () => {
      const s = this.watchers.get(subject);
      if (s !== undefined && s.delete(cb) && s.size === 0) this.watchers.delete(subject);
    };
  }

  private notifyWatchers(sub: Subscription): void {
    if (sub.kind === 'literal' || (sub.kind === 'nats' && !hasWildcard(sub.subject))) {
      const set = this.watchers.get(sub.subject);
      if (set !== undefined) for (const cb of [...set]) cb();
      return;
    }
    for (const [subject, set] of [...this.watchers]) if (reaches(sub, subject)) for (const cb of [...set]) cb();
  }

  private removeNats(sub: Subscription): boolean {
    const tokens = sub.subject.split('.');
    const path: [Level, string, Node][] = [];
    let level: Level | null = this.root;
    let node: Node | null = null;
    for (let i = 0; i < tokens.length && level !== null; i++) {
      const t = tokens[i];
      node = t === '*' ? level.pwc : t === '>' ? level.fwc : (level.literal.get(t) ?? null);
      if (node === null) return false;
      path.push([level, t, node]);
      level = node.next;
    }
    if (node === null || path.length !== tokens.length) return false;
    if (!removeFromNode(node, sub)) return false;
    // Prune empty nodes bottom-up so the trie does not grow with churned subjects.
    for (let i = path.length - 1; i >= 0; i--) {
      const [lvl, t, n] = path[i];
      if (n.next !== null && n.next.empty) n.next = null;
      if (!n.empty) break;
      if (t === '*') lvl.pwc = null;
      else if (t === '>') lvl.fwc = null;
      else lvl.literal.delete(t);
    }
    return true;
  }

  /** Everything that `subject` (a literal) matches. */
  match(subject: string): MatchResult {
    const hit = this.cache.get(subject);
    if (hit !== undefined) {
      this.cacheHits++;
      return hit;
    }
    this.matches++;
    const plain: Subscription[] = [];
    const queues = new Map<string, Subscription[]>();
    // A subject with an empty token matches no NATS pattern, as in nats-server (`foo..bar`
    // reaches no `>`); nor does one a NATS PUB could not carry (whitespace).
    if (isNatsRoutable(subject)) matchLevel(this.root, subject.split('.'), 0, plain, queues);
    if (this.literals.size > 0) {
      const lit = this.literals.get(subject);
      if (lit !== undefined) addNode(lit, plain, queues);
    }
    if (this.globs.size > 0) {
      for (const [pattern, node] of this.globs) if (globMatches(pattern, subject)) addNode(node, plain, queues);
    }
    const result: MatchResult = plain.length === 0 && queues.size === 0 ? EMPTY : { plain, queues: [...queues.values()] };
    for (let i = 0; i < this.uncached.length; i++) if (subject.startsWith(this.uncached[i])) return result;
    if (this.cache.size >= SUBLIST_CACHE_MAX) this.evict();
    this.cache.set(subject, result);
    const first = firstToken(subject);
    let keys = this.cacheByFirst.get(first);
    if (keys === undefined) this.cacheByFirst.set(first, (keys = new Set()));
    keys.add(subject);
    return result;
  }

  /**
   * Publishes under `prefix` are matched without the cache: for subjects used once each (a
   * JetStream ack's reply subject carries the message's sequences), caching costs an insert and
   * an eviction per message and pushes the hot entries out (measured: a miss that caches costs
   * several times a miss that does not, and the evictions turn the inbox hits of deliveries into
   * misses). Matching is unchanged; only the cache skips them.
   */
  skipCacheUnder(prefix: string): void {
    if (!this.uncached.includes(prefix)) this.uncached.push(prefix);
  }

  /** True when at least one subscription matches `subject`. */
  hasInterest(subject: string): boolean {
    const r = this.match(subject);
    return r.plain.length > 0 || r.queues.length > 0;
  }

  /** Largest and mean fan-out (plain subscriptions + queue groups) over cached match results, for
   * /subsz (nats-server sublist.go, Stats). Costs one pass over the cache. */
  fanout(): { max: number; avg: number } {
    let max = 0;
    let total = 0;
    for (const r of this.cache.values()) {
      const n = r.plain.length + r.queues.length;
      total += n;
      if (n > max) max = n;
    }
    return { max, avg: total > 0 ? total / this.cache.size : 0 };
  }

  /** Every subscription, for monitoring. */
  all(): Subscription[] {
    const out: Subscription[] = [];
    collect(this.root, out);
    for (const n of this.literals.values()) collectNode(n, out);
    for (const n of this.globs.values()) collectNode(n, out);
    return out;
  }

  /**
   * Adds `sub` to (or removes it from) every cached result it belongs to, copying each changed
   * result so holders of the old one see no change (nats-server sublist.go, addToCache /
   * removeFromCache). A name or a NATS subject without wildcards can only be in its own entry.
   */
  private patchCache(sub: Subscription, add: boolean): void {
    const cache = this.cache;
    if (cache.size === 0) return;
    const subject = sub.subject;
    if (sub.kind === 'literal' || (sub.kind === 'nats' && !hasWildcard(subject))) {
      const r = cache.get(subject);
      if (r !== undefined && (sub.kind === 'literal' || isNatsRoutable(subject))) cache.set(subject, patched(r, sub, add));
      return;
    }
    if (sub.kind === 'nats') {
      // Every subject the pattern matches starts with its literal tokens: a prefix compare
      // rejects most keys (all but `_INBOX.<nuid>.` for an inbox subscription) cheaply.
      const prefix = literalPrefix(subject);
      const patch = (key: string, r: MatchResult): void => {
        if (key.startsWith(prefix) && subjectMatches(subject, key) && isNatsRoutable(key)) cache.set(key, patched(r, sub, add));
      };
      if (prefix === '') for (const [key, r] of cache) patch(key, r);
      else for (const key of this.cacheByFirst.get(firstToken(subject)) ?? []) patch(key, cache.get(key)!);
    } else {
      for (const [key, r] of cache) if (globMatches(subject, key)) cache.set(key, patched(r, sub, add));
    }
  }

  private evict(): void {
    let drop = this.cache.size >> 2;
    for (const key of this.cache.keys()) {
      if (drop-- <= 0) break;
      this.cache.delete(key);
      const first = firstToken(key);
      const keys = this.cacheByFirst.get(first);
      if (keys !== undefined && keys.delete(key) && keys.size === 0) this.cacheByFirst.delete(first);
    }
  }
}

/** The node for `key` in a kind's Map, created as needed. */
function nodeIn(map: Map<string, Node>, key: string): Node {
  let n = map.get(key);
  if (n === undefined) map.set(key, (n = new Node()));
  return n;
}

/** Removes `sub` from its node in a kind's Map, dropping the node once empty. */
function removeIn(map: Map<string, Node>, sub: Subscription): boolean {
  const n = map.get(sub.subject);
  if (n === undefined || !removeFromNode(n, sub)) return false;
  if (n.empty) map.delete(sub.subject);
  return true;
}

function removeFromNode(node: Node, sub: Subscription): boolean {
  if (sub.queue === null) return node.plain.delete(sub);
  const group = node.queues.get(sub.queue);
  if (group === undefined || !group.delete(sub)) return false;
  if (group.size === 0) node.queues.delete(sub.queue);
  return true;
}

/** `a` for `a.b.c`, the whole subject when it has one token. */
function firstToken(subject: string): string {
  const dot = subject.indexOf('.');
  return dot < 0 ? subject : subject.slice(0, dot);
}

/** `a.b.` for `a.b.*.c`: the literal tokens before the first wildcard, with their dots. */
function literalPrefix(pattern: string): string {
  let end = 0;
  for (let i = 0; i <= pattern.length; i++) {
    if (i < pattern.length && pattern.charCodeAt(i) !== 0x2e) continue;
    const len = i - end;
    const c = pattern.charCodeAt(end);
    if (len === 1 && (c === 0x2a || c === 0x3e)) break;
    end = i + 1;
  }
  return pattern.slice(0, Math.min(end, pattern.length));
}

/** A copy of `r` with `sub` added or removed; `r` itself is never changed. */
function patched(r: MatchResult, sub: Subscription, add: boolean): MatchResult {
  const q = sub.queue;
  if (add) {
    if (q === null) return { plain: [...r.plain, sub], queues: r.queues };
    const queues = r.queues.slice();
    const i = queues.findIndex((g) => g[0].queue === q);
    if (i < 0) queues.push([sub]);
    else queues[i] = [...queues[i], sub];
    return { plain: r.plain, queues };
  }
  let plain = r.plain;
  let queues = r.queues;
  if (q === null) {
    if (!plain.includes(sub)) return r;
    plain = plain.filter((s) => s !== sub);
  } else {
    const i = queues.findIndex((g) => g[0].queue === q);
    if (i < 0 || !queues[i].includes(sub)) return r;
    const rest = queues[i].filter((s) => s !== sub);
    queues = rest.length > 0 ? queues.map((g, j) => (j === i ? rest : g)) : queues.filter((_, j) => j !== i);
  }
  return plain.length === 0 && queues.length === 0 ? EMPTY : { plain, queues };
}

function addNode(n: Node, plain: Subscription[], queues: Map<string, Subscription[]>): void {
  for (const s of n.plain) plain.push(s);
  for (const [q, group] of n.queues) {
    let arr = queues.get(q);
    if (arr === undefined) queues.set(q, (arr = []));
    for (const s of group) arr.push(s);
  }
}

function matchLevel(level: Level, tokens: string[], i: number, plain: Subscription[], queues: Map<string, Subscription[]>): void {
  // Result order follows nats-server's walk: `>` first, then what lies under `*`, then the literal
  // token; at the last token the literal node comes before `*`. Clients do not depend on it, but
  // the differential tests compare it.
  const last = i === tokens.length - 1;
  if (level.fwc !== null) addNode(level.fwc, plain, queues);
  const n = level.literal.get(tokens[i]);
  if (last) {
    if (n !== undefined) addNode(n, plain, queues);
    if (level.pwc !== null) addNode(level.pwc, plain, queues);
    return;
  }
  if (level.pwc !== null && level.pwc.next !== null) matchLevel(level.pwc.next, tokens, i + 1, plain, queues);
  if (n !== undefined && n.next !== null) matchLevel(n.next, tokens, i + 1, plain, queues);
}

function collectNode(n: Node, out: Subscription[]): void {
  for (const s of n.plain) out.push(s);
  for (const g of n.queues.values()) for (const s of g) out.push(s);
}

function collect(level: Level, out: Subscription[]): void {
  const visit = (n: Node): void => {
    collectNode(n, out);
    if (n.next !== null) collect(n.next, out);
  };
  for (const n of level.literal.values()) visit(n);
  if (level.pwc !== null) visit(level.pwc);
  if (level.fwc !== null) visit(level.fwc);
}

/**
 * True when a message published on `subject` reaches `sub`, by the rule of its kind (the same rule
 * `Sublist.match` applies): a NATS pattern by token matching when the subject is NATS-routable, a
 * literal channel by equality, a glob by Redis glob matching. For monitoring (`/subsz?test=`).
 */
export function reaches(sub: Subscription, subject: string): boolean {
  if (sub.kind === 'literal') return sub.subject === subject;
  if (sub.kind === 'glob') return globMatches(sub.subject, subject);
  return isNatsRoutable(subject) && subjectMatches(sub.subject, subject);
}
