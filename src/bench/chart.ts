/**
 * A hand-written SVG bar chart of herald's standing against each peer: one bar per workload on a
 * log2 axis centred at parity (1.0), right of centre when herald did better. No dependencies.
 */
import type { ComparisonRow } from './summary.js';
import { fmtNum, fmtRate, fmtRatio } from './lib/stats.js';

/** Longest n/a note shown in a row, characters (the rest is in the report). */
const NOTE_MAX = 58;
/** The axis spans 1/AXIS_SPAN … AXIS_SPAN; values beyond are clipped and marked with an arrow. */
const AXIS_SPAN = 16;
const ROW_H = 26;
const LABEL_W = 330;
const PLOT_W = 420;
const VALUE_W = 250;
const TOP = 58;
const BOTTOM = 40;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Renders the chart; `titles` maps workload ids to row labels. */
export function renderChart(rows: readonly ComparisonRow[], titles: ReadonlyMap<string, string>, subtitle: string): string {
  const width = LABEL_W + PLOT_W + VALUE_W + 20;
  const height = TOP + rows.length * ROW_H + BOTTOM;
  const span = Math.log2(AXIS_SPAN);
  const x0 = LABEL_W + PLOT_W / 2;
  const xOf = (v: number): number => x0 + (Math.max(-span, Math.min(span, Math.log2(v))) / span) * (PLOT_W / 2);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="10" y="20" font-size="15" font-weight="600">herald relative to the peer server (median of rounds)</text>`);
  out.push(
    `<text x="10" y="38" fill="#555">${esc(subtitle)} · right of 1× = herald better (throughput herald÷peer, latency peer÷herald)</text>`,
  );
  // Grid lines at powers of two.
  for (let e = -span; e <= span; e++) {
    const v = 2 ** e;
    const x = xOf(v);
    out.push(
      `<line x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${TOP + rows.length * ROW_H}" stroke="${e === 0 ? '#333' : '#e2e2e2'}" stroke-width="${e === 0 ? 1.5 : 1}"/>`,
    );
    const label = v >= 1 ? `${v}×` : `1/${1 / v}`;
    out.push(`<text x="${x}" y="${TOP + rows.length * ROW_H + 16}" text-anchor="middle" fill="#555">${label}</text>`);
  }
  rows.forEach((r, i) => {
    const y = TOP + i * ROW_H;
    const title = titles.get(r.workload) ?? r.workload;
    out.push(
      `<text x="${LABEL_W - 8}" y="${y + ROW_H / 2 + 4}" text-anchor="end">${esc(title)} <tspan fill="#888">· ${esc(r.peer)}</tspan></text>`,
    );
    if (r.advantage === null) {
      const note = r.heraldNote ?? 'n/a';
      const short = note.length > NOTE_MAX ? `${note.slice(0, NOTE_MAX - 1)}…` : note;
      out.push(`<text x="${x0 + 6}" y="${y + ROW_H / 2 + 4}" fill="#888">n/a: ${esc(short)}</text>`);
      return;
    }
    const x = xOf(r.advantage);
    const left = Math.min(x, x0);
    const w = Math.max(1, Math.abs(x - x0));
    const color = r.advantage >= 1 ? '#2e7d32' : '#c62828';
    out.push(`<rect x="${left}" y="${y + 5}" width="${w}" height="${ROW_H - 10}" fill="${color}" opacity="0.85"/>`);
    const clipped = Math.abs(Math.log2(r.advantage)) > span;
    if (clipped)
      out.push(
        `<text x="${x}" y="${y + ROW_H / 2 + 4}" text-anchor="${r.advantage > 1 ? 'end' : 'start'}" fill="#fff">${r.advantage > 1 ? '▶' : '◀'}</text>`,
      );
    const v = (x: number | undefined): string =>
      x === undefined ? '?' : r.metric === 'rate' ? `${fmtRate(x)}/s` : `${fmtNum(x)} µs`;
    const detail = `${r.metric === 'rate' ? '' : 'p50 '}${v(r.herald?.median)} vs ${v(r.peerValue?.median)}`;
    out.push(
      `<text x="${LABEL_W + PLOT_W + 8}" y="${y + ROW_H / 2 + 4}">${fmtRatio(r.advantage)} <tspan fill="#888">${esc(detail)}</tspan></text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
