/** Inline SVG charts over steps: lines or stacked bars, stage boundaries as labelled dashed lines. */

export interface Series {
  name: string;
  color: string;
  /** One value per x (null = missing). */
  values: (number | null)[];
  dashed?: boolean;
  /** Draw the line across missing values (sparse series such as evals). */
  connectGaps?: boolean;
  /** A shaded band around the line (e.g. min..max over seeds), one pair per x. */
  band?: { lo: (number | null)[]; hi: (number | null)[] };
}

export interface StageMark {
  step: number;
  name: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  steps: number[];
  series: Series[];
  kind: 'line' | 'stacked';
  stages: StageMark[];
  unit?: string;
  /** Pin the y range (e.g. [0, 1] for rates). */
  yMin?: number;
  yMax?: number;
  /** Pin the x range (e.g. to the training steps, so charts of different sampling line up). */
  xRange?: [number, number];
}

const W = 560;
const H = 260;
const M = { left: 56, right: 14, top: 44, bottom: 52 };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** The closed outline of a series' band over the x positions where both bounds are known. */
function bandPath(s: Series, xs: number[], sx: (x: number) => number, sy: (y: number) => number): string {
  if (!s.band) return '';
  const pts: { x: number; lo: number; hi: number }[] = [];
  xs.forEach((x, i) => {
    const lo = s.band?.lo[i];
    const hi = s.band?.hi[i];
    if (typeof lo === 'number' && typeof hi === 'number' && Number.isFinite(lo) && Number.isFinite(hi)) pts.push({ x, lo, hi });
  });
  if (pts.length === 0) return '';
  const top = pts.map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.hi).toFixed(1)}`).join('');
  const bottom = [...pts].reverse().map((p) => `L${sx(p.x).toFixed(1)},${sy(p.lo).toFixed(1)}`).join('');
  return `${top}${bottom}Z`;
}

export function renderChart(c: ChartSpec): string {
  const xs = c.steps;
  const lowest = Math.min(c.xRange?.[0] ?? Infinity, xs[0] ?? Infinity);
  const x0 = Number.isFinite(lowest) ? lowest : 0;
  const x1 = Math.max(x0 + 1, c.xRange?.[1] ?? -Infinity, xs[xs.length - 1] ?? -Infinity);
  const totals = c.kind === 'stacked' ? xs.map((_, i) => c.series.reduce((a, s) => a + Math.max(0, s.values[i] ?? 0), 0)) : [];
  const finite = (vs: (number | null)[]): number[] => vs.filter((v): v is number => v !== null && Number.isFinite(v));
  const all = c.kind === 'stacked' ? totals : c.series.flatMap((s) => [...finite(s.values), ...finite(s.band?.lo ?? []), ...finite(s.band?.hi ?? [])]);
  const lo = c.yMin ?? Math.min(0, ...all);
  let hi = c.yMax ?? Math.max(lo, ...all);
  // a flat series (all zero, or nothing yet) gets a unit range rather than a microscopic one
  if (!(hi - lo > 1e-9)) hi = lo + 1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const barW = Math.max(1, Math.min(24, (pw / Math.max(1, xs.length)) * 0.8));
  const sx = (x: number): number => M.left + (c.kind === 'stacked' ? barW / 2 + ((x - x0) / (x1 - x0)) * (pw - barW) : ((x - x0) / (x1 - x0)) * pw);
  const sy = (y: number): number => M.top + ph - ((y - lo) / (hi - lo)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" id="${c.id}" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(c.title)}">`);
  parts.push(`<text x="${M.left}" y="18" class="title">${escapeXml(c.title)}${c.unit ? ` (${escapeXml(c.unit)})` : ''}</text>`);
  for (const t of niceTicks(lo, hi)) {
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}"/>`);
    parts.push(`<text class="tick" x="${M.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1, 6).filter((t) => Number.isInteger(t))) {
    parts.push(`<text class="tick" x="${sx(t).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<text class="tick" x="${M.left + pw / 2}" y="${H - M.bottom + 32}" text-anchor="middle">step</text>`);
  parts.push(`<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}"/><line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}"/>`);

  if (c.kind === 'stacked') {
    xs.forEach((x, i) => {
      let acc = 0;
      for (const s of c.series) {
        const v = Math.max(0, s.values[i] ?? 0);
        if (v <= 0) continue;
        const yTop = sy(acc + v);
        const yBot = sy(acc);
        parts.push(`<rect class="bar" data-series="${escapeXml(s.name)}" x="${(sx(x) - barW / 2).toFixed(1)}" y="${yTop.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(0.5, yBot - yTop).toFixed(1)}" fill="${s.color}"><title>step ${x} ${escapeXml(s.name)}: ${fmt(v)}</title></rect>`);
        acc += v;
      }
    });
  } else {
    for (const s of c.series) {
      const band = bandPath(s, xs, sx, sy);
      if (band) parts.push(`<path class="band" data-series="${escapeXml(s.name)}" d="${band}" fill="${s.color}" fill-opacity="0.18" stroke="none"/>`);
    }
    for (const s of c.series) {
      let d = '';
      let pen = false;
      s.values.forEach((v, i) => {
        const x = xs[i];
        if (v === null || !Number.isFinite(v) || x === undefined) {
          if (!s.connectGaps) pen = false;
          return;
        }
        d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(v).toFixed(1)}`;
        pen = true;
      });
      if (d) parts.push(`<path class="series" data-series="${escapeXml(s.name)}" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      if (xs.length <= 60) {
        s.values.forEach((v, i) => {
          const x = xs[i];
          if (v !== null && Number.isFinite(v) && x !== undefined) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(v).toFixed(1)}" r="2.5" fill="${s.color}"><title>step ${x} ${escapeXml(s.name)}: ${fmt(v)}</title></circle>`);
        });
      }
    }
  }

  for (const st of c.stages) {
    const x = c.kind === 'stacked' ? sx(st.step) - barW / 2 - 1 : sx(st.step);
    // labels sit in the top margin, above the data, so they never cover a line or a bar
    parts.push(`<line class="stage" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${M.top - 14}" y2="${M.top + ph}"/>`);
    parts.push(`<text class="stage-label" x="${(x + 3).toFixed(1)}" y="${M.top - 6}">${escapeXml(st.name)}</text>`);
  }

  // legend under the x axis label
  let lx = M.left;
  for (const s of c.series) {
    parts.push(`<rect x="${lx}" y="${H - 12}" width="10" height="10" fill="${s.color}"/><text class="legend" x="${lx + 14}" y="${H - 3}">${escapeXml(s.name)}</text>`);
    lx += 22 + s.name.length * 6.5;
  }
  parts.push('</svg>');
  return parts.join('');
}
