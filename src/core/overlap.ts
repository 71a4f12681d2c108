import { Subscription, type Client } from './message.js';
import { Sublist } from './sublist.js';
import { hasWildcard, subjectsCollide } from './subject.js';

/**
 * Subject-overlap checks for stream configs (JetStream 10065 and "subject overlaps with"), in
 * O(n) for literal subjects: two literals collide only when equal; a literal is checked against
 * every wildcard pattern in one sublist match; only wildcard pairs are compared one by one, and
 * their count is bounded by MAX_WILDCARD_PAIRS so one request cannot stall the event loop.
 */

/** Wildcard × wildcard comparisons one check may make (about 0.1 s of work). */
export const MAX_WILDCARD_PAIRS = 1_000_000;

/** Thrown when a check would need more than MAX_WILDCARD_PAIRS comparisons. */
export class TooManyWildcardsError extends Error {
  constructor() {
    super(`too many wildcard subjects to check for overlaps (more than ${MAX_WILDCARD_PAIRS} pairs)`);
  }
}

const NOBODY: Client = { id: 0, echo: true, deliver: () => false };

/** Indexes of the wildcard patterns in `list`, in a sublist keyed by index (as the sid). */
function wildcardIndex(list: readonly string[]): { sl: Sublist; wild: number[] } {
  const sl = new Sublist();
  const wild: number[] = [];
  for (let i = 0; i < list.length; i++) {
    if (!hasWildcard(list[i])) continue;
    wild.push(i);
    sl.insert(new Subscription(NOBODY, list[i], null, String(i)));
  }
  return { sl, wild };
}

/**
 * The first pair (i < j, smallest i, then smallest j) of subjects in `list` that could match a
 * common subject (identical entries included), or null.
 */
export function firstCollision(list: readonly string[]): [number, number] | null {
  const { sl, wild } = wildcardIndex(list);
  if (wild.length * wild.length > MAX_WILDCARD_PAIRS * 2) throw new TooManyWildcardsError();
  let best: [number, number] | null = null;
  const consider = (a: number, b: number): void => {
    const i = Math.min(a, b);
    const j = Math.max(a, b);
    if (i === j) return;
    if (best === null || i < best[0] || (i === best[0] && j < best[1])) best = [i, j];
  };
  const firstLiteral = new Map<string, number>();
  for (let j = 0; j < list.length; j++) {
    if (hasWildcard(list[j])) continue;
    const seenAt = firstLiteral.get(list[j]);
    if (seenAt === undefined) firstLiteral.set(list[j], j);
    else consider(seenAt, j);
    const r = sl.match(list[j]);
    for (const s of r.plain) consider(Number(s.sid), j);
  }
  for (let x = 0; x < wild.length; x++) {
    for (let y = x + 1; y < wild.length; y++) {
      if (subjectsCollide(list[wild[x]], list[wild[y]])) consider(wild[x], wild[y]);
    }
  }
  return best;
}

/** True when some subject of `a` and some subject of `b` could match a common subject. */
export function listsCollide(a: readonly string[], b: readonly string[]): boolean {
  const literalsB = new Set(b.filter((s) => !hasWildcard(s)));
  const wb = wildcardIndex(b);
  const wildA = a.filter(hasWildcard);
  if (wildA.length * wb.wild.length > MAX_WILDCARD_PAIRS * 2) throw new TooManyWildcardsError();
  for (const s of a) {
    if (hasWildcard(s)) continue;
    if (literalsB.has(s) || wb.sl.hasInterest(s)) return true;
  }
  if (wildA.length === 0) return false;
  const wa = wildcardIndex(wildA);
  for (const s of literalsB) if (wa.sl.hasInterest(s)) return true;
  for (const x of wildA) for (const i of wb.wild) if (subjectsCollide(x, b[i])) return true;
  return false;
}
