/**
 * The counts of one run, from what its roles reported: published, delivered, expected, lost,
 * duplicates, misrouted, errors, the headline rate, and whether the run failed. Pure (unit-tested
 * in test/bench/accounting.test.ts), so the rules below are the only place the bench decides what
 * a number means.
 *
 * Rules:
 * - Pub/sub (fanout > 0): expected = published × fanout. Deliveries above that are duplicates (a
 *   queue group delivering to every member, a message delivered twice); they are not counted in
 *   the rate, which is min(delivered, expected) per second. lost = expected − delivered when short.
 * - Stream publishers (js-pub, redis-xadd): `received` is OK acks only; error acks are `errors`.
 *   ok + errors + lost = sent, so lost is the publishes that got no answer at all. The rate is OK
 *   acks per second.
 * - Every other role: the rate is `received` (OK answers: consumed messages, measured round trips)
 *   per second; error replies are never part of it.
 * - A run with any error reply, duplicate or misrouted message has failed (`failed` says why); the
 *   report marks it. Loss alone does not fail a run (Redis drops slow subscribers by design).
 */
import type { RoleResult } from './ipc.js';

/** The counts of one run. */
export interface RunCounts {
  /** Measured window, s: first publish to last delivery (pub/sub), or the main role's phase. */
  seconds: number;
  published: number;
  /** OK deliveries: messages to subscribers (duplicates included), OK acks, consumed messages, round trips. */
  delivered: number;
  /** published × fanout for pub/sub; 0 otherwise. */
  expected: number;
  /** Expected deliveries that never came (pub/sub), or publishes with no answer at all (streams); null where it means nothing. */
  lost: number | null;
  /** Deliveries above `expected` (pub/sub); null where it means nothing. */
  duplicates: number | null;
  /** Answers that did not belong to the request or stream they came for. */
  misrouted: number;
  /** Error replies on any role (-ERR, error acks, RESP errors, status messages). */
  errors: number;
  /** Headline rate: distinct deliveries/s, OK acks/s, consumed/s or round trips/s; errors and duplicates excluded. */
  rate: number;
  /** Publisher-side rate (messages the server accepted per second), for pub/sub. */
  publishRate: number | null;
  /** Why the run's numbers cannot be trusted (errors, duplicates, misroutes), or null. */
  failed: string | null;
  /** The count the server's CPU time is divided by. */
  perMessageCount: number;
}

/** How a run is shaped, for accounting. */
export interface RunShape {
  kind: 'throughput' | 'latency';
  /** Deliveries expected per published message (0 when not pub/sub). */
  fanout: number;
}

/** Roles whose `received` are acks of their own publishes (lost = sent − ok − errors). */
const STREAM_PUBLISHERS = new Set<string>(['js-pub', 'redis-xadd']);

/** Accounts one run: `main` is the role that ended it, `others` the subscribers or replier. */
export function account(shape: RunShape, main: RoleResult, others: readonly RoleResult[]): RunCounts {
  const errors = main.errors + others.reduce((a, r) => a + r.errors, 0);
  const misrouted = (main.misrouted ?? 0) + others.reduce((a, r) => a + (r.misrouted ?? 0), 0);
  const start = main.startAt ?? 0;
  const c: RunCounts = {
    seconds: 0,
    published: main.sent,
    delivered: 0,
    expected: 0,
    lost: null,
    duplicates: null,
    misrouted,
    errors,
    rate: 0,
    publishRate: null,
    failed: null,
    perMessageCount: 0,
  };
  if (shape.fanout > 0) {
    c.delivered = others.reduce((a, r) => a + r.received, 0);
    c.expected = main.sent * shape.fanout;
    c.lost = Math.max(0, c.expected - c.delivered);
    c.duplicates = Math.max(0, c.delivered - c.expected);
    const lastRecv = Math.max(0, ...others.map((r) => r.lastRecvAt ?? 0));
    c.seconds = Math.max(0, (lastRecv - start) / 1000);
    const distinct = Math.min(c.delivered, c.expected);
    c.rate = c.seconds > 0 ? distinct / c.seconds : 0;
    const pubS = ((main.endAt ?? start) - start) / 1000;
    c.publishRate = pubS > 0 ? main.sent / pubS : null;
    c.perMessageCount = distinct;
  } else {
    c.delivered = main.received;
    c.seconds = Math.max(0, ((main.endAt ?? start) - start) / 1000);
    c.rate = c.seconds > 0 ? main.received / c.seconds : 0;
    if (shape.kind === 'throughput' && STREAM_PUBLISHERS.has(main.role)) {
      c.lost = Math.max(0, main.sent - main.received - main.errors);
    }
    c.perMessageCount = main.received;
  }
  const why: string[] = [];
  if (errors > 0) why.push(`${errors} error repl${errors === 1 ? 'y' : 'ies'}`);
  if ((c.duplicates ?? 0) > 0) why.push(`${c.duplicates} deliveries above published × ${shape.fanout} (duplicates)`);
  if (misrouted > 0) why.push(`${misrouted} misrouted`);
  c.failed = why.length > 0 ? why.join(', ') : null;
  return c;
}
