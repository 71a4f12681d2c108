/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and prints where the time went: by category
 * (herald's code, Node internals, GC, idle), the top functions by self time, and the top by
 * inclusive time. Usage: `node dist/src/bench/profile-summary.js FILE.cpuprofile [--top N]`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Default rows per table. */
const DEFAULT_TOP = 25;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

/** The parts of a V8 CPU profile this tool reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** One function's share of the profile. */
export interface FnTime {
  key: string;
  name: string;
  location: string;
  category: string;
  selfMs: number;
  totalMs: number;
}

/** Totals of a profile. */
export interface ProfileSummary {
  totalMs: number;
  byCategory: Array<{ category: string; ms: number }>;
  functions: FnTime[];
}

function categoryOf(f: CallFrame): string {
  const n = f.functionName;
  if (n === '(garbage collector)') return 'GC';
  if (n === '(idle)') return 'idle';
  if (n === '(program)') return 'V8/native (program)';
  if (n === '(root)') return 'root';
  const u = f.url;
  if (u.includes('/node_modules/')) return 'dependencies';
  if (u.includes('/src/')) return 'herald';
  if (u.startsWith('node:')) return 'Node.js internals';
  if (u === '') return 'native builtins';
  return 'other JS';
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('/src/');
  if (i >= 0) return url.slice(i + 1);
  const j = url.lastIndexOf('/node_modules/');
  if (j >= 0) return url.slice(j + 14);
  return url.replace(/^file:\/\//, '');
}

/** Self and inclusive time per function (recursion counted once per stack). */
export function summariseProfile(p: CpuProfile): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Self time per node from the sample stream (timeDeltas[i+1] is how long sample i lasted).
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    for (let i = 0; i < samples.length; i++) {
      const d = deltas[i + 1] ?? 0;
      self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + d / 1000);
    }
  } else {
    const total = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
    const per = (p.endTime - p.startTime) / 1000 / total;
    for (const n of p.nodes) self.set(n.id, (n.hitCount ?? 0) * per);
  }
  const keyOf = (n: ProfileNode): string =>
    `${n.callFrame.functionName || '(anonymous)'}@${n.callFrame.url}:${n.callFrame.lineNumber}`;
  const fns = new Map<string, FnTime>();
  const cats = new Map<string, number>();
  let totalMs = 0;
  for (const n of p.nodes) {
    const s = self.get(n.id) ?? 0;
    totalMs += s;
    const k = keyOf(n);
    let f = fns.get(k);
    if (!f) {
      f = {
        key: k,
        name: n.callFrame.functionName || '(anonymous)',
        location: n.callFrame.url ? `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '',
        category: categoryOf(n.callFrame),
        selfMs: 0,
        totalMs: 0,
      };
      fns.set(k, f);
    }
    f.selfMs += s;
    cats.set(f.category, (cats.get(f.category) ?? 0) + s);
    if (s === 0) continue;
    // Inclusive: credit this node's self time to every distinct function on its stack.
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const a = byId.get(id)!;
      const ak = keyOf(a);
      if (seen.has(ak)) continue;
      seen.add(ak);
      const af = fns.get(ak);
      if (af) af.totalMs += s;
      else {
        fns.set(ak, {
          key: ak,
          name: a.callFrame.functionName || '(anonymous)',
          location: a.callFrame.url ? `${shortUrl(a.callFrame.url)}:${a.callFrame.lineNumber + 1}` : '',
          category: categoryOf(a.callFrame),
          selfMs: 0,
          totalMs: s,
        });
      }
    }
  }
  return {
    totalMs,
    byCategory: [...cats].map(([category, ms]) => ({ category, ms })).sort((a, b) => b.ms - a.ms),
    functions: [...fns.values()],
  };
}

/** Renders the summary as text tables (percent of all sampled time, ms). */
export function renderProfile(s: ProfileSummary, top: number): string {
  const pct = (ms: number): string => `${((100 * ms) / (s.totalMs || 1)).toFixed(1).padStart(5)}%`;
  const busy = s.totalMs - (s.byCategory.find((c) => c.category === 'idle')?.ms ?? 0);
  const L: string[] = [];
  L.push(`sampled ${(s.totalMs / 1000).toFixed(2)} s, busy ${(busy / 1000).toFixed(2)} s (${pct(busy).trim()})`);
  L.push('');
  L.push('by category (self time):');
  for (const c of s.byCategory) L.push(`  ${pct(c.ms)} ${c.ms.toFixed(0).padStart(8)} ms  ${c.category}`);
  const real = s.functions.filter((f) => !['(root)', '(idle)'].includes(f.name));
  L.push('');
  L.push(`top ${top} by self time:`);
  for (const f of [...real].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) {
    L.push(`  ${pct(f.selfMs)} ${f.selfMs.toFixed(0).padStart(8)} ms  ${f.name}  ${f.location}`);
  }
  L.push('');
  L.push(`top ${top} by inclusive time (herald's functions):`);
  for (const f of real
    .filter((x) => x.category === 'herald')
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top)) {
    L.push(`  ${pct(f.totalMs)} ${f.totalMs.toFixed(0).padStart(8)} ms  ${f.name}  ${f.location}`);
  }
  return L.join('\n');
}

function main(argv: string[]): number {
  const file = argv.find((a) => !a.startsWith('--'));
  const ti = argv.indexOf('--top');
  const top = ti >= 0 ? Number(argv[ti + 1]) || DEFAULT_TOP : DEFAULT_TOP;
  if (!file) {
    process.stderr.write('usage: node dist/src/bench/profile-summary.js FILE.cpuprofile [--top N]\n');
    return 2;
  }
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${renderProfile(summariseProfile(p), top)}\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(main(process.argv.slice(2)));
