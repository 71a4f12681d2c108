/**
 * The latency chart: one panel per swept row, p99 (solid) and p50 (dashed) latency against
 * offered load, one line per server, both axes logarithmic. Hand-written SVG, no dependencies.
 */
import { fmtNum, fmtRate } from '../lib/stats.js';
import type { LatencyReport, LatRow } from './report.js';

const PANEL_W = 440;
const PANEL_H = 250;
const PAD_L = 58;
const PAD_B = 36;
const PAD_T = 30;
const COLS = 2;
const HEADER = 56;
/** Line colours by server name; others cycle through the rest. */
const COLOURS: Record<string, string> = { herald: '#1565c0', 'nats-server': '#2e7d32', 'redis-server': '#c62828' };
const SPARE = ['#6a1b9a', '#ef6c00', '#00838f'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/** Renders every swept row that has latency numbers. */
export function renderLatencyChart(rep: LatencyReport): string {
  const byRow = new Map<string, LatRow[]>();
  for (const r of rep.rows) {
    if (!r.levels.some((l) => l.latency && l.offered)) continue;
    if (!byRow.has(r.workload)) byRow.set(r.workload, []);
    byRow.get(r.workload)!.push(r);
  }
  const panels = [...byRow.values()];
  const rows = Math.max(1, Math.ceil(panels.length / COLS));
  const width = COLS * PANEL_W + 20;
  const height = HEADER + rows * PANEL_H + 10;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(
    `<text x="10" y="20" font-size="15" font-weight="600">Latency against offered load (open loop, from the intended send time)</text>`,
  );
  const legend = [...new Set(rep.rows.map((r) => r.target))];
  out.push(
    `<text x="10" y="40" fill="#555">${esc(rep.date.slice(0, 10))} · ${rep.machine.cores} cores · solid p99, dashed p50 · log–log · ${legend.map((n, i) => `<tspan fill="${COLOURS[n] ?? SPARE[i % SPARE.length]}">■ ${esc(n)}</tspan>`).join('  ')}</text>`,
  );
  panels.forEach((rs, i) => {
    const x0 = 10 + (i % COLS) * PANEL_W;
    const y0 = HEADER + Math.floor(i / COLS) * PANEL_H;
    const pts = rs.flatMap((r) => r.levels.filter((l) => l.latency && l.offered));
    const xs = pts.map((l) => l.offered!);
    const ys = pts.flatMap((l) => [l.latency!.p50, l.latency!.p99]).filter((v) => v > 0);
    const xlo = Math.min(...xs) / 1.3;
    const xhi = Math.max(...xs) * 1.3;
    const ylo = Math.max(1, Math.min(...ys) / 1.5);
    const yhi = Math.max(...ys) * 1.5;
    const pw = PANEL_W - PAD_L - 20;
    const ph = PANEL_H - PAD_T - PAD_B;
    const X = (v: number): number => x0 + PAD_L + ((Math.log10(v) - Math.log10(xlo)) / (Math.log10(xhi) - Math.log10(xlo))) * pw;
    const Y = (v: number): number =>
      y0 + PAD_T + ph - ((Math.log10(Math.max(ylo, v)) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo))) * ph;
    out.push(`<text x="${x0 + PAD_L}" y="${y0 + 18}" font-weight="600">${esc(rs[0]!.title)}</text>`);
    out.push(`<rect x="${x0 + PAD_L}" y="${y0 + PAD_T}" width="${pw}" height="${ph}" fill="none" stroke="#ccc"/>`);
    for (const t of logTicks(ylo, yhi)) {
      if (t < ylo || t > yhi) continue;
      out.push(
        `<line x1="${x0 + PAD_L}" x2="${x0 + PAD_L + pw}" y1="${Y(t)}" y2="${Y(t)}" stroke="#eee"/><text x="${x0 + PAD_L - 4}" y="${Y(t) + 4}" text-anchor="end" fill="#555">${t >= 1000 ? `${fmtNum(t / 1000)} ms` : `${t} µs`}</text>`,
      );
    }
    for (const t of logTicks(xlo, xhi)) {
      if (t < xlo || t > xhi) continue;
      out.push(
        `<line y1="${y0 + PAD_T}" y2="${y0 + PAD_T + ph}" x1="${X(t)}" x2="${X(t)}" stroke="#eee"/><text x="${X(t)}" y="${y0 + PAD_T + ph + 14}" text-anchor="middle" fill="#555">${fmtRate(t)}/s</text>`,
      );
    }
    out.push(
      `<text x="${x0 + PAD_L + pw / 2}" y="${y0 + PANEL_H - 6}" text-anchor="middle" fill="#555">offered publishes per second</text>`,
    );
    rs.forEach((r, j) => {
      const colour = COLOURS[r.target] ?? SPARE[j % SPARE.length]!;
      const ls = r.levels.filter((l) => l.latency && l.offered);
      const line = (pick: (l: (typeof ls)[number]) => number, dash: string): void => {
        const d = ls.map((l, k) => `${k === 0 ? 'M' : 'L'}${X(l.offered!).toFixed(1)},${Y(pick(l)).toFixed(1)}`).join(' ');
        out.push(
          `<path d="${d}" fill="none" stroke="${colour}" stroke-width="${dash ? 1.2 : 2}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
        );
      };
      line((l) => l.latency!.p99, '');
      line((l) => l.latency!.p50, '4 3');
      for (const l of ls) {
        const lost = l.lossPct > 0;
        out.push(
          `<circle cx="${X(l.offered!).toFixed(1)}" cy="${Y(l.latency!.p99).toFixed(1)}" r="${lost ? 4 : 2.5}" fill="${lost ? '#fff' : colour}" stroke="${colour}"><title>${esc(`${r.target} ${fmtRate(l.offered)}/s: p50 ${l.latency!.p50} µs, p99 ${l.latency!.p99} µs, loss ${fmtNum(l.lossPct)}%`)}</title></circle>`,
        );
      }
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
