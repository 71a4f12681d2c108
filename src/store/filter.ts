/**
 * Subject-filter helpers shared by both stores: a filter is '' or '>' (everything), a literal
 * subject, or a pattern with `*` / `>` tokens (specs/nats.md §1 "Subjects").
 */
import { hasWildcard, subjectMatches } from '../core/subject.js';
import { isAllFilter } from './subjects.js';

/** How a filter must be evaluated; decided once per call so scans do no re-parsing. */
export const enum FilterKind {
  All = 0,
  Literal = 1,
  Wildcard = 2,
}

/** Classifies `filter` once per call, so scans compare without re-parsing it. */
export function filterKind(filter: string): FilterKind {
  if (isAllFilter(filter)) return FilterKind.All;
  return hasWildcard(filter) ? FilterKind.Wildcard : FilterKind.Literal;
}

/** True when `subject` is selected by `filter` of kind `kind`. Allocates nothing. */
export function filterMatches(kind: FilterKind, filter: string, subject: string): boolean {
  if (kind === FilterKind.All) return true;
  if (kind === FilterKind.Literal) return subject === filter;
  return subjectMatches(filter, subject);
}
