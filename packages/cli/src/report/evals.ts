/**
 * The held-out evaluations of a run (the learner's evals.jsonl) in the report: a chart of avg@k per
 * eval dataset over steps, on the same step axis as the training curves, and a table with one
 * column per evaluation (before training, each stage boundary, each periodic eval).
 */
import { parseJsonl, ValidationError } from '@acereason/protocol';
import type { EvalRecord } from '@acereason/learner';
import { escapeXml, type ChartSpec, type Series, type StageMark } from './svg.js';

/**
 * One line of evals.jsonl: the learner's EvalRecord. Files written before a field existed may
 * lack `reason`, `trigger`, `seconds` or `policyVersion`; the report reads the rest.
 */
export type EvalLine = Omit<EvalRecord, OptionalEvalField> & Partial<Pick<EvalRecord, OptionalEvalField>>;
type OptionalEvalField = 'reason' | 'trigger' | 'seconds' | 'policyVersion';

const NUMERIC = ['step', 'k', 'avgAtK', 'passAtK', 'prompts', 'missing'] as const;

/** Parses evals.jsonl; a bad line is an error naming the file, the line and the field. */
export function parseEvalsJsonl(text: string, file = 'evals.jsonl'): EvalLine[] {
  return parseJsonl(text, file).map(({ line, value: v }) => {
    if (typeof v !== 'object' || v === null) throw new ValidationError(`${file}:${line}`, 'expected an object');
    const o = v as Record<string, unknown>;
    if (typeof o.dataset !== 'string') throw new ValidationError(`${file}:${line}`, '"dataset" must be a string');
    for (const k of NUMERIC) if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw new ValidationError(`${file}:${line}`, `"${k}" must be a number`);
    return v as EvalLine;
  });
}

/** One evaluation round: the datasets evaluated at one step for one reason. */
export interface EvalRound {
  label: string;
  step: number;
  boundary: boolean;
  byDataset: Map<string, EvalLine>;
}

function roundLabel(e: EvalLine): string {
  const t = e.trigger;
  if (t?.kind === 'before-training') return 'before RL';
  if (t?.kind === 'stage-end') return `end of ${t.stage}`;
  if (t?.kind === 'periodic') return `step ${e.step}`;
  return e.reason ?? `step ${e.step}`;
}

/** Groups the lines into rounds in file order (a round = consecutive lines with the same step and trigger). */
export function evalRounds(evals: readonly EvalLine[]): EvalRound[] {
  const rounds: EvalRound[] = [];
  for (const e of evals) {
    const label = roundLabel(e);
    let r = rounds[rounds.length - 1];
    if (!r || r.label !== label || r.step !== e.step || r.byDataset.has(e.dataset)) {
      r = { label, step: e.step, boundary: e.trigger?.kind !== 'periodic', byDataset: new Map() };
      rounds.push(r);
    }
    r.byDataset.set(e.dataset, e);
  }
  return rounds;
}

export const datasetsOf = (evals: readonly EvalLine[]): string[] => [...new Set(evals.map((e) => e.dataset))];

const EVAL_COLORS = ['#16a34a', '#2563eb', '#ea580c', '#7c3aed', '#dc2626', '#0891b2'];

/** avg@k per dataset over the run's steps (x range = the training steps, so it lines up with the curves). */
export function evalChart(evals: readonly EvalLine[], stages: StageMark[], xRange: [number, number] | undefined): ChartSpec {
  const rounds = evalRounds(evals);
  const steps = [...new Set(rounds.map((r) => r.step))].sort((a, b) => a - b);
  const series: Series[] = datasetsOf(evals).map((d, i) => ({
    name: `${d} avg@${evals.find((e) => e.dataset === d)?.k ?? 'k'}`,
    color: EVAL_COLORS[i % EVAL_COLORS.length] as string,
    connectGaps: true,
    // the latest round at a step wins (a stage-end eval and the next stage's start share a step)
    values: steps.map((s) => {
      const at = rounds.filter((r) => r.step === s && r.byDataset.has(d));
      return at.length ? (at[at.length - 1]?.byDataset.get(d)?.avgAtK ?? null) : null;
    }),
  }));
  return { id: 'chart-evals', title: 'Held-out evaluation (avg@k per dataset)', kind: 'line', steps, stages, yMin: 0, yMax: 1, series, ...(xRange ? { xRange } : {}) };
}

const pct = (v: number | undefined): string => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);

/** One row per eval dataset, one column per evaluation round: avg@k (pass@k). */
export function evalTable(evals: readonly EvalLine[]): string {
  const rounds = evalRounds(evals);
  if (rounds.length === 0) return '';
  const head = rounds.map((r) => `<th${r.boundary ? ' class="boundary"' : ''}>${escapeXml(r.label)}<br><span class="sub">step ${r.step}</span></th>`).join('');
  const rows = datasetsOf(evals).map((d) => {
    const cells = rounds.map((r) => {
      const e = r.byDataset.get(d);
      return e ? `<td title="${e.prompts} prompts, k=${e.k}${e.missing ? `, ${e.missing} missing` : ''}">${pct(e.avgAtK)} <span class="sub">(${pct(e.passAtK)})</span></td>` : '<td>-</td>';
    });
    return `<tr><td>${escapeXml(d)}</td>${cells.join('')}</tr>`;
  });
  return `<h2>Held-out evaluations</h2><p class="meta">avg@k (pass@k) per eval dataset, before RL, at each stage boundary and at every periodic eval.</p><table id="evals"><thead><tr><th>dataset</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The before/after table a run's driver prints on the terminal (e.g. the demo's before RL / after math / after code). */
export interface HeadlineTable {
  columns: string[];
  rows: { name: string; values: (number | null)[] }[];
}

export function headlineTable(t: HeadlineTable): string {
  const head = t.columns.map((c) => `<th>${escapeXml(c)}</th>`).join('');
  const rows = t.rows.map((r) => `<tr><td>${escapeXml(r.name)}</td>${r.values.map((v) => `<td>${v === null ? '-' : pct(v)}</td>`).join('')}</tr>`);
  return `<table id="headline"><thead><tr><th></th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
