/**
 * The ablation's HTML report: per finding, its result table and per-arm curves of entropy, reward
 * and held-out accuracy over steps, the mean over seeds as the line and min..max over seeds as a
 * band. One self-contained page like the run report (inline SVG and CSS).
 */
import type { EvalLine } from '../report/evals.js';
import type { MetricsLine } from '../report/render.js';
import { escapeXml, renderChart, type Series } from '../report/svg.js';
import { formatValue, type FindingResult } from './results.js';

/** One finished run of one arm. */
export interface ArmRunData { arm: string; seed: number; metrics: MetricsLine[]; evals: EvalLine[] }

const COLORS = ['#2563eb', '#ea580c', '#16a34a', '#7c3aed', '#dc2626'];

type Point = { step: number; value: number };

function bandSeries(name: string, color: string, perSeed: Point[][]): { steps: number[]; series: Series } {
  const steps = [...new Set(perSeed.flatMap((p) => p.map((x) => x.step)))].sort((a, b) => a - b);
  const at = (s: number): number[] => perSeed.flatMap((p) => p.filter((x) => x.step === s).map((x) => x.value));
  const values = steps.map((s) => { const v = at(s); return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null; });
  return { steps, series: { name, color, connectGaps: true, values, band: { lo: steps.map((s) => (at(s).length ? Math.min(...at(s)) : null)), hi: steps.map((s) => (at(s).length ? Math.max(...at(s)) : null)) } } };
}

function chart(id: string, title: string, arms: string[], points: (arm: string) => Point[][], yUnit = false): string {
  const built = arms.map((a, i) => bandSeries(a, COLORS[i % COLORS.length] as string, points(a)));
  const steps = [...new Set(built.flatMap((b) => b.steps))].sort((a, b) => a - b);
  // re-index every arm's values onto the shared step axis
  const series = built.map((b) => {
    const idx = (s: number): number => b.steps.indexOf(s);
    const pick = (vs: (number | null)[]): (number | null)[] => steps.map((s) => (idx(s) >= 0 ? (vs[idx(s)] ?? null) : null));
    return { ...b.series, values: pick(b.series.values), band: { lo: pick(b.series.band?.lo ?? []), hi: pick(b.series.band?.hi ?? []) } };
  });
  return renderChart({ id, title, kind: 'line', steps, stages: [], series, ...(yUnit ? { yMin: 0, yMax: 1 } : {}) });
}

const num = (l: MetricsLine, k: string): number | null => (typeof l[k] === 'number' && Number.isFinite(l[k]) ? (l[k] as number) : null);
const metricPoints = (runs: ArmRunData[], key: string) => (arm: string): Point[][] =>
  runs.filter((r) => r.arm === arm).map((r) => r.metrics.flatMap((l) => { const v = num(l, key); return v === null ? [] : [{ step: l.step, value: v }]; }));
const evalPoints = (runs: ArmRunData[], dataset: string) => (arm: string): Point[][] =>
  runs.filter((r) => r.arm === arm).map((r) => r.evals.filter((e) => e.dataset === dataset).map((e) => ({ step: e.step, value: e.avgAtK })));

function findingSection(f: FindingResult, runs: ArmRunData[], evalDataset: string | undefined): string {
  const arms = [...new Set(runs.map((r) => r.arm))];
  const pct = (v: number): string => formatValue(f.unit, v);
  const unit = f.unit === 'nats' ? 'nats' : 'points';
  const rows = f.arms.map((a) => `<tr><td>${escapeXml(a.name)}</td><td>${escapeXml(a.metric)}</td><td>${pct(a.mean)}</td><td>${pct(a.std)}</td><td>${a.per_seed.map(pct).join(', ')}</td></tr>`).join('');
  const counts = f.arms.flatMap((a) => (a.prompts ? [`<li>${escapeXml(a.name)}, ${escapeXml(a.prompts.stage)} (per seed): pool ${a.prompts.pool.join(', ')}; filtered ${a.prompts.filtered.join(', ')}; eligible ${a.prompts.eligible.join(', ')}; draws ${a.prompts.draws.join(', ')}</li>`] : []));
  const verdict = f.reproduced ? '<b class="yes">reproduced</b>' : '<b class="no">not reproduced</b>';
  return `<section id="finding-${escapeXml(f.name)}"><h2>${escapeXml(f.name)}</h2><p class="meta">${escapeXml(f.claim)}</p>
<p>${verdict}: effect against ${escapeXml(f.vs)} ${pct(f.effect)} ${unit}, noise ${f.noise === null ? '- (one seed)' : `${pct(f.noise)} ${unit}`}; test: ${escapeXml(f.test)}; seeds ${f.seeds.join(', ')}.</p>
<table><thead><tr><th>arm</th><th>metric</th><th>mean ${f.unit === 'nats' ? '(nats)' : '%'}</th><th>std</th><th>per seed</th></tr></thead><tbody>${rows}</tbody></table>${counts.length ? `<ul class="meta">${counts.join('')}</ul>` : ''}
<div class="grid-charts">${chart(`${f.name}-entropy`, 'Entropy (mean per token)', arms, metricPoints(runs, 'entropy_mean'))}${chart(`${f.name}-reward`, 'Reward (mean)', arms, metricPoints(runs, 'reward_mean'))}${evalDataset === undefined ? chart(`${f.name}-clip`, 'Clipped fraction of tokens', arms, metricPoints(runs, 'clip_fraction')) : chart(`${f.name}-heldout`, `Held-out ${evalDataset} avg@k`, arms, evalPoints(runs, evalDataset), true)}</div></section>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#0f172a}h1{font-size:20px}h2{font-size:16px;margin:24px 0 4px}.meta{color:#475569}
.grid-charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}svg.chart{border:1px solid #e2e8f0;border-radius:6px;max-width:100%;height:auto}
svg .title{font-weight:600;font-size:13px}svg .tick,svg .legend{font-size:11px;fill:#475569}svg .grid{stroke:#e2e8f0}svg .axis{stroke:#94a3b8}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #e2e8f0;padding:4px 10px;text-align:right}td:first-child,th:first-child,td:nth-child(2){text-align:left}.yes{color:#16a34a}.no{color:#dc2626}`;

export function renderAblationReport(findings: { result: FindingResult; runs: ArmRunData[]; evalDataset: string | undefined }[], generatedAt = new Date().toISOString()): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>acereason ablate</title><style>${CSS}</style></head>
<body><h1>acereason ablate</h1><p class="meta">Each arm: real runs of the demo recipe on a local cluster; lines are the mean over seeds, bands min..max over seeds.</p>
${findings.map((f) => findingSection(f.result, f.runs, f.evalDataset)).join('\n')}
<footer class="meta">generated ${escapeXml(generatedAt)}</footer></body></html>
`;
}
