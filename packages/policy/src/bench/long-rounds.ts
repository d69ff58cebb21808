/**
 * `bench long --rounds N`: a row's two sides alternating in separate processes (ours, PyTorch,
 * ours, PyTorch, ...), each round a fresh process per side with one timed step, so the sides'
 * peaks are never resident together (28 layers: ~12 GB ours, ~15 GB PyTorch) and a change of the
 * machine's load between rounds hits both sides. Per side min / median / max of the step's wall
 * seconds, tokens/s and tokens per CPU-second (which other jobs' load moves much less than wall
 * time), and the median of the per-round ratios with their range.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AceReasonError, ErrorCodes, pairFigures, spread, significant } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import type { LongChildArgs } from './long-bench-child.js';
import type { OursRow } from './long-ours.js';
import { longStepFlops, torchStepFlops } from './long-model.js';
import { runTorchLong } from './torch-long.js';

const CHILD = fileURLToPath(new URL('./long-bench-child.js', import.meta.url));

const round = (x: number): number => significant(x);
const median = (xs: readonly number[]): number => spread(xs).median;
const rounded = (s: { min: number; median: number; max: number }): { min: number; median: number; max: number } => ({ min: round(s.min), median: round(s.median), max: round(s.max) });

function runChild(args: LongChildArgs): Promise<OursRow> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== 0) return reject(new AceReasonError(ErrorCodes.INTERNAL, `bench long: our side's process exited with ${String(code ?? signal)}`, { retryable: false }));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as OursRow);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

export interface RoundsRowOptions {
  model: ResolvedModelConfig;
  modelDir?: string;
  tokens: number;
  threads: number;
  rounds: number;
  /** How PyTorch runs the row, or why it does not. */
  torch: { checkpoint: boolean } | { skip: string };
}

interface Side {
  step_s: number;
  cpu_s: number;
  peak_rss_mb: number;
  gflops: number;
  matmul_gflops: number;
}

function sideSummary(rounds: Side[], T: number): Record<string, unknown> {
  const pick = (f: (s: Side) => number): { min: number; median: number; max: number } => rounded(spread(rounds.map(f)));
  return {
    step_s: pick((s) => s.step_s), tokens_per_s: pick((s) => T / s.step_s), cpu_s: pick((s) => s.cpu_s), tokens_per_cpu_s: pick((s) => T / s.cpu_s),
    gflops: pick((s) => s.gflops), matmul_1024_gflops: pick((s) => s.matmul_gflops), matmul_fraction: pick((s) => s.gflops / s.matmul_gflops),
    peak_rss_mb: round(Math.max(...rounds.map((s) => s.peak_rss_mb))),
    per_round: rounds.map((s) => ({ step_s: round(s.step_s), cpu_s: round(s.cpu_s), peak_rss_mb: round(s.peak_rss_mb), gflops: round(s.gflops), matmul_1024_gflops: round(s.matmul_gflops) })),
  };
}

/** One row measured in alternating rounds; returns the row and the ratios it gives. */
export async function roundsRow(o: RoundsRowOptions, key: string): Promise<{ row: Record<string, unknown>; ratios: Record<string, number> }> {
  const c = o.model;
  const T = o.tokens;
  const ours: Side[] = [];
  const torch: Side[] = [];
  const load: number[] = [];
  let torchVersion = '';
  for (let r = 0; r < o.rounds; r++) {
    load.push(round(loadavg()[0] ?? NaN));
    const a = await runChild({ model: c, ...(o.modelDir !== undefined ? { modelDir: o.modelDir } : {}), tokens: T, steps: 1, threads: o.threads });
    const step = a.step_s[0] as number;
    ours.push({ step_s: step, cpu_s: a.cpu_s[0] as number, peak_rss_mb: a.peak_rss_mb, gflops: longStepFlops(c, T) / step / 1e9, matmul_gflops: median(a.matmul_flops) / 1e9 });
    if ('skip' in o.torch) continue;
    const b = await runTorchLong({ model: c, tokens: T, steps: 1, threads: o.threads, checkpoint: o.torch.checkpoint });
    const tstep = b.step_s[0] as number;
    torchVersion = b.torch;
    torch.push({ step_s: tstep, cpu_s: b.cpu_s[0] as number, peak_rss_mb: b.peak_rss_mb, gflops: torchStepFlops(c, T, o.torch.checkpoint) / tstep / 1e9, matmul_gflops: median(b.matmul_1024_gflops) });
  }
  load.push(round(loadavg()[0] ?? NaN));
  const row: Record<string, unknown> = { layers: c.numLayers, tokens: T, rounds: o.rounds, order: 'alternating: ours, pytorch, ours, pytorch, ... (a fresh process per side per round, one step each)', load_average: load, ours: sideSummary(ours, T) };
  const ratios: Record<string, number> = {};
  if ('skip' in o.torch) {
    row.pytorch = o.torch.skip;
    return { row, ratios };
  }
  row.pytorch = { version: torchVersion, activation_checkpointing: o.torch.checkpoint, ...sideSummary(torch, T) };
  const paired = pairFigures(
    { tokens_per_s: 'higher', tokens_per_cpu_s: 'higher', matmul_1024_gflops: 'higher' },
    ours.map((s, i) => {
      const t = torch[i] as Side;
      return { ours: { tokens_per_s: T / s.step_s, tokens_per_cpu_s: T / s.cpu_s, matmul_1024_gflops: s.matmul_gflops }, baseline: { tokens_per_s: T / t.step_s, tokens_per_cpu_s: T / t.cpu_s, matmul_1024_gflops: t.matmul_gflops } };
    }),
  );
  row.ratio = Object.fromEntries(Object.entries(paired.figures).map(([k, f]) => [k, { ...rounded(f.ratio), per_round: f.rounds.map(([a, b]) => round(a / b)) }]));
  ratios[`train_tokens_per_s_${key}`] = round(paired.ratios.tokens_per_s);
  ratios[`train_tokens_per_cpu_s_${key}`] = round(paired.ratios.tokens_per_cpu_s);
  ratios[`matmul_1024_${key}`] = round(paired.ratios.matmul_1024_gflops);
  return { row, ratios };
}
