/**
 * The run report: one self-contained HTML page (inline SVG and CSS, no scripts, fonts or network)
 * with per-step charts of a run's metrics.jsonl and its stage boundaries, plus a summary table.
 */
import { evalChart, evalTable, headlineTable, type EvalLine, type HeadlineTable } from './evals.js';
import { escapeXml, renderChart, type ChartSpec, type Series, type StageMark } from './svg.js';
import { parseJsonl, ValidationError } from '@acereason/protocol';

export type MetricsLine = Record<string, unknown> & { step: number };

export interface ReportOptions {
  title: string;
  /** Stage boundaries; by default wherever the `stage` field changes. */
  stages?: StageMark[];
  /** The run's held-out evaluations (evals.jsonl): charted beside the training curves and tabled. */
  evals?: readonly EvalLine[];
  /** The driver's before/after table (e.g. the demo's), shown at the top. */
  headline?: HeadlineTable;
  /** Shown in the footer (default: now). */
  generatedAt?: string;
}

/** Parses metrics.jsonl; a bad line is an error naming it. */
export function parseMetricsJsonl(text: string, file = 'metrics.jsonl'): MetricsLine[] {
  return parseJsonl(text, file).map(({ line, value: v }) => {
    if (typeof v !== 'object' || v === null || typeof (v as { step?: unknown }).step !== 'number') throw new ValidationError(`${file}:${line}`, 'expected an object with a numeric "step"');
    return v as MetricsLine;
  });
}

export function stageBoundaries(lines: readonly MetricsLine[]): StageMark[] {
  const marks: StageMark[] = [];
  let prev: unknown;
  for (const l of lines) {
    if (typeof l.stage === 'string' && l.stage !== prev) marks.push({ step: l.step, name: l.stage });
    prev = l.stage;
  }
  return marks;
}

const val = (l: MetricsLine, k: string): number | null => {
  const v = l[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

const COLORS = { blue: '#2563eb', orange: '#ea580c', green: '#16a34a', red: '#dc2626', purple: '#7c3aed', gray: '#64748b' };

function f(v: number | null, digits = 3): string {
  return v === null ? '-' : String(Number(v.toPrecision(digits)));
}

function summaryTable(lines: readonly MetricsLine[], stages: readonly StageMark[]): string {
  const rows: string[] = [];
  const bounds = stages.length ? stages : [{ step: lines[0]?.step ?? 0, name: '(run)' }];
  bounds.forEach((st, i) => {
    const next = bounds[i + 1]?.step ?? Infinity;
    const part = lines.filter((l) => l.step >= st.step && l.step < next);
    if (part.length === 0) return;
    const first = part[0] as MetricsLine;
    const last = part[part.length - 1] as MetricsLine;
    const stepS = part.map((l) => val(l, 'step_s')).filter((v): v is number => v !== null);
    rows.push(`<tr><td>${escapeXml(st.name)}</td><td>${first.step}&ndash;${last.step}</td><td>${f(val(first, 'reward_mean'))} &rarr; ${f(val(last, 'reward_mean'))}</td><td>${f(val(first, 'accuracy'))} &rarr; ${f(val(last, 'accuracy'))}</td><td>${f(val(last, 'response_len_mean'))}</td><td>${f(val(last, 'truncation_rate'))}</td><td>${f(val(last, 'entropy_mean'))}</td><td>${stepS.length ? f(stepS.reduce((a, b) => a + b, 0) / stepS.length) : '-'}</td></tr>`);
  });
  return `<table id="summary"><thead><tr><th>stage</th><th>steps</th><th>reward (first &rarr; last)</th><th>accuracy (first &rarr; last)</th><th>response length (last)</th><th>truncation (last)</th><th>entropy (last)</th><th>mean step s</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px;color:#0f172a;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:16px 0 4px}.sub{color:#64748b;font-size:11px}th.boundary{background:#f3e8ff}.meta{color:#475569;margin:0 0 16px}
.grid-charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
svg.chart{border:1px solid #e2e8f0;border-radius:6px;background:#fff;max-width:100%;height:auto}
svg .title{font-weight:600;font-size:13px;fill:#0f172a}svg .tick,svg .legend{font-size:11px;fill:#475569}
svg .grid{stroke:#e2e8f0;stroke-width:1}svg .axis{stroke:#94a3b8;stroke-width:1}
svg .stage{stroke:#9333ea;stroke-width:1.5;stroke-dasharray:4 3}svg .stage-label{font-size:11px;fill:#9333ea;font-weight:600}
table{border-collapse:collapse;margin:16px 0}td,th{border:1px solid #e2e8f0;padding:4px 10px;text-align:right}th{background:#f8fafc}td:first-child,th:first-child{text-align:left}
footer{color:#94a3b8;font-size:12px;margin-top:24px}`;

export function renderReport(lines: readonly MetricsLine[], opts: ReportOptions): string {
  const sorted = [...lines].sort((a, b) => a.step - b.step);
  const steps = sorted.map((l) => l.step);
  const stages = opts.stages ?? stageBoundaries(sorted);
  const series = (name: string, key: string, color: string, dashed = false): Series => ({ name, color, values: sorted.map((l) => val(l, key)), dashed });
  const evals = opts.evals ?? [];
  const xRange: [number, number] | undefined = steps.length ? [steps[0] as number, steps[steps.length - 1] as number] : undefined;
  const charts: ChartSpec[] = [
    ...(evals.length ? [evalChart(evals, stages, xRange)] : []),
    { id: 'chart-reward', title: 'Reward (mean)', kind: 'line', steps, stages, series: [series('reward_mean', 'reward_mean', COLORS.blue)] },
    { id: 'chart-accuracy', title: 'Accuracy', kind: 'line', steps, stages, yMin: 0, yMax: 1, series: [series('accuracy', 'accuracy', COLORS.green)] },
    { id: 'chart-length', title: 'Response length', unit: 'tokens', kind: 'line', steps, stages, series: [series('mean', 'response_len_mean', COLORS.orange), series('p95', 'response_len_p95', COLORS.red, true)] },
    { id: 'chart-truncation', title: 'Truncation rate', kind: 'line', steps, stages, yMin: 0, yMax: 1, series: [series('truncation_rate', 'truncation_rate', COLORS.red)] },
    { id: 'chart-entropy', title: 'Entropy (mean per token)', kind: 'line', steps, stages, series: [series('entropy_mean', 'entropy_mean', COLORS.purple)] },
    {
      id: 'chart-time', title: 'Step time split', unit: 's', kind: 'stacked', steps, stages,
      series: [series('wait rollouts', 'wait_rollouts_s', COLORS.gray), series('verify', 'verify_s', COLORS.green), series('train', 'train_s', COLORS.blue), series('publish', 'publish_s', COLORS.orange)],
    },
  ];
  const last = sorted[sorted.length - 1];
  const meta = sorted.length
    ? `${sorted.length} steps (${steps[0]}&ndash;${steps[steps.length - 1]}), ${stages.length} stage${stages.length === 1 ? '' : 's'}${last && typeof last.policy_version === 'number' ? `, policy v${last.policy_version}` : ''}`
    : 'no steps recorded yet';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeXml(opts.title)}</title><style>${CSS}</style></head>
<body><h1>${escapeXml(opts.title)}</h1><p class="meta">${meta}</p>
${opts.headline ? headlineTable(opts.headline) : ''}
${summaryTable(sorted, stages)}
${evalTable(evals)}
<div class="grid-charts">${charts.map(renderChart).join('\n')}</div>
<footer>acereason run report, generated ${escapeXml(opts.generatedAt ?? new Date().toISOString())}. Dashed purple lines mark stage boundaries.</footer>
</body></html>
`;
}
