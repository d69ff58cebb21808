/**
 * `acereason report --metrics metrics.jsonl [--evals evals.jsonl] --out report.html`: the run
 * report as one HTML file. The held-out evals default to the evals.jsonl beside metrics.jsonl.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { findStateFile, readClusterState } from '../local/cluster-state.js';
import { parseEvalsJsonl, type EvalLine } from '../report/evals.js';
import { parseMetricsJsonl, renderReport } from '../report/render.js';

const USAGE = 'acereason report [--metrics FILE] [--evals FILE] [--out report.html] [--title TEXT]';

export const report: Command = {
  name: 'report',
  summary: 'render a run\'s metrics.jsonl as a self-contained HTML report with charts',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, { metrics: { type: 'string' }, evals: { type: 'string' }, out: { type: 'string' }, title: { type: 'string' } }, USAGE);
    let metrics = values.metrics;
    let runId: string | undefined;
    if (!metrics) {
      const file = findStateFile();
      if (!file) throw new UsageError('--metrics is required (no cluster state here to find the run folder)', `usage: ${USAGE}`);
      const state = readClusterState(file);
      metrics = join(state.outDir, 'metrics.jsonl');
      runId = state.runId;
    }
    let text: string;
    try {
      text = readFileSync(metrics, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${metrics}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'Pass the metrics.jsonl of a run (it is in the run\'s out_dir).');
    }
    let lines;
    try {
      lines = parseMetricsJsonl(text, metrics);
    } catch (err) {
      throw new UsageError((err as Error).message, 'The file must be the metrics.jsonl a learner writes: one JSON object per step.');
    }
    const evalsFile = values.evals ?? join(dirname(metrics), 'evals.jsonl');
    let evals: EvalLine[] = [];
    if (values.evals !== undefined || existsSync(evalsFile)) {
      let evalText: string;
      try {
        evalText = readFileSync(evalsFile, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${evalsFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'Pass the evals.jsonl of a run (the learner writes it beside metrics.jsonl).');
      }
      try {
        evals = parseEvalsJsonl(evalText, evalsFile);
      } catch (err) {
        throw new UsageError((err as Error).message, 'The file must be the evals.jsonl a learner writes: one JSON object per dataset and evaluation.');
      }
    }
    const out = resolve(values.out ?? join(dirname(metrics), 'report.html'));
    const title = values.title ?? `acereason run ${runId ?? basename(dirname(resolve(metrics)))}`;
    writeFileSync(out, renderReport(lines, { title, evals }));
    ctx.stdout.write(`${out} (${lines.length} steps, ${evals.length} evals)\n`);
    return 0;
  },
};
