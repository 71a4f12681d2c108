/**
 * STREAM.PURGE semantics shared by both stores (specs/nats.md §3): `seq` removes messages below
 * it, `keep` keeps the newest N matching, `seq: 1` removes nothing, and an unfiltered purge of
 * everything is one step. Each store only carries out the plan.
 */
import type { PurgeOptions } from './store.js';
import { FilterKind, filterKind } from './filter.js';

/** What a purge has to do: nothing, drop everything (next seq given), or a bounded scan. */
export type PurgePlan =
  | { readonly op: 'none' }
  | { readonly op: 'all'; readonly nextSeq: number }
  | {
      readonly op: 'scan';
      readonly filter: string;
      readonly kind: FilterKind;
      /** Remove at most this many matching messages, oldest first. */
      readonly max: number;
      /** ...with seq at most this. */
      readonly upTo: number;
    };

/** Plans a purge of a store whose last seq is `lastSeq`; `countMatching` counts live matches. */
export function planPurge(opts: PurgeOptions | undefined, lastSeq: number, countMatching: (filter: string) => number): PurgePlan {
  const filter = opts?.filter ?? '';
  const seqLimit = opts?.seq ?? 0;
  const keep = opts?.keep ?? 0;
  if (seqLimit === 1) return { op: 'none' };
  const kind = filterKind(filter);
  if (kind === FilterKind.All && keep === 0) {
    if (seqLimit === 0) return { op: 'all', nextSeq: lastSeq + 1 };
    if (seqLimit > lastSeq) return { op: 'all', nextSeq: seqLimit };
  }
  const matching = countMatching(filter);
  if (matching === 0 || (keep > 0 && keep >= matching)) return { op: 'none' };
  const max = keep > 0 ? matching - keep : matching;
  return { op: 'scan', filter, kind, max, upTo: seqLimit > 0 ? seqLimit - 1 : lastSeq };
}
