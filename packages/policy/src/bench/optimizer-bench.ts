import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AceReasonError, ErrorCodes, MIN_ROUNDS, ValidationError, benchHost, spread } from '@acereason/protocol';
import type { BenchReport } from '@acereason/protocol';
import { modelConfigFromHf } from '../model/hf-config.js';
import { hfPreset } from '../model/hf-presets.js';
import { numel, paramSpecs } from '../model/params.js';
import { decays } from '../train/adamw.js';
import type { OptimizerChildArgs } from './optimizer-bench-child.js';
import { PYTHON, ensureTorch } from './torch-ref.js';

const CHILD = fileURLToPath(new URL('./optimizer-bench-child.js', import.meta.url));
const TORCH_SCRIPT = fileURLToPath(new URL('../../bench/torch_optim.py', import.meta.url));

export interface OptimizerBenchOptions {
  quick?: boolean;
  /** Decoder layers of the Qwen3-0.6B parameter list (default 2; 28 is the whole model: ~9.3 GB ours, ~14.6 GB PyTorch). */
  layers?: number;
  rounds?: number;
  /** Measured steps per process, after one unmeasured step (default 2; 1 above 4 layers). */
  steps?: number;
  threads?: number;
}

type Step = Record<'norm_clip_s' | 'adamw_s' | 'step_s', number>;

function run(cmd: string, args: string[], what: string): Record<string, unknown> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new AceReasonError(ErrorCodes.INTERNAL, `bench optimizer: ${what} failed (exit ${String(r.status)}): ${r.stderr.slice(-2000)}`, { retryable: false });
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

const figures = (steps: Step[]): Record<keyof Step, ReturnType<typeof spread>> => ({
  step_s: spread(steps.map((s) => s.step_s)),
  norm_clip_s: spread(steps.map((s) => s.norm_clip_s)),
  adamw_s: spread(steps.map((s) => s.adamw_s)),
});

/**
 * `acereason bench optimizer`: the optimizer step alone (global gradient norm, clipping, AdamW) over
 * the parameter list of Qwen3-0.6B with `layers` decoder layers (tied 151936 x 1024 embedding),
 * ours (AdamW in ONNX Runtime over the flat buffers) against PyTorch's clip_grad_norm_ +
 * torch.optim.AdamW (foreach=True and False both measured; the faster is the baseline), same thread
 * count, gradients large enough that clipping applies. Each side runs in its own process per round
 * (at 28 layers ~9.3 GB ours and ~14.6 GB PyTorch: both cannot be resident at once), the sides alternating
 * round by round; every process makes one unmeasured step (sessions, optimizer state) and then
 * `steps` measured ones.
 */
export async function benchOptimizer(o: OptimizerBenchOptions = {}): Promise<BenchReport> {
  const quick = o.quick === true;
  const full = modelConfigFromHf(hfPreset('Qwen3-0.6B'));
  const layers = o.layers ?? 2;
  if (!Number.isInteger(layers) || layers < 1 || layers > full.numLayers) throw new ValidationError('--layers', `must be an integer in [1, ${full.numLayers}], got ${layers}`);
  const c = quick ? { ...modelConfigFromHf(hfPreset('Qwen3-0.6B', { hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, vocab_size: 4096 })), numLayers: layers } : { ...full, numLayers: layers };
  const rounds = o.rounds ?? (quick ? 1 : MIN_ROUNDS);
  // Past a few layers a step takes tens of seconds a side: one measured step per process keeps 5 rounds within minutes.
  const steps = o.steps ?? (quick || layers > 4 ? 1 : 2);
  const threads = o.threads ?? cpus().length;
  const why = ensureTorch();
  if (why !== undefined) throw new AceReasonError(ErrorCodes.INTERNAL, `bench optimizer needs PyTorch: ${why}`, { retryable: false });
  const specs = paramSpecs(c);
  const params = specs.map((s) => [numel(s.shape), decays(s.name)] as [number, boolean]);
  const args: OptimizerChildArgs = { params, threads, steps, lr: 1e-4, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1, seed: 1 };
  const torchArgs = { params, threads, steps, lr: args.lr, weight_decay: args.weightDecay, betas: args.betas, eps: args.eps, max_grad_norm: args.maxGradNorm, seed: 1 };
  const ours: Step[][] = [];
  const foreach: Step[][] = [];
  const forLoop: Step[][] = [];
  const rss = { ours: 0, torch: 0 };
  const load: number[] = [];
  let torchVersion = '';
  for (let r = 0; r < rounds; r++) {
    load.push(loadavg()[0] ?? NaN);
    const a = run(process.execPath, [CHILD, JSON.stringify(args)], 'our side');
    ours.push(a.steps as Step[]);
    rss.ours = Math.max(rss.ours, a.peak_rss_mb as number);
    const b = run(PYTHON, [TORCH_SCRIPT, JSON.stringify(torchArgs)], 'bench/torch_optim.py');
    foreach.push(b.foreach as Step[]);
    forLoop.push(b.for_loop as Step[]);
    rss.torch = Math.max(rss.torch, b.peak_rss_mb as number);
    torchVersion = String(b.torch);
  }
  const oursF = figures(ours.flat());
  const fe = figures(foreach.flat());
  const fl = figures(forLoop.flat());
  const torchBest = fe.step_s.median <= fl.step_s.median ? 'foreach' : 'for_loop';
  const best = torchBest === 'foreach' ? foreach : forLoop;
  const perRound = ours.map((s, r) => spread(best[r]?.map((x) => x.step_s) ?? []).median / spread(s.map((x) => x.step_s)).median);
  const bestF = torchBest === 'foreach' ? fe : fl;
  return {
    suite: 'optimizer',
    host: benchHost(),
    config: { model: 'qwen3-0.6b', layers, quick, parameters: params.reduce((n, [k]) => n + k, 0), tensors: params.length, threads, rounds, steps_per_process: steps, load_avg_1m: spread(load), torch: torchVersion },
    ours: { ...oursF, peak_rss_mb: rss.ours },
    torch_foreach: fe,
    torch_for_loop: fl,
    torch_peak_rss_mb: rss.torch,
    torch_baseline: torchBest,
    ratio_per_round: spread(perRound),
    ratios: {
      // > 1: ours is faster than PyTorch's faster variant.
      step_seconds_torch_over_ours: bestF.step_s.median / oursF.step_s.median,
      norm_clip_seconds_torch_over_ours: bestF.norm_clip_s.median / oursF.norm_clip_s.median,
      adamw_seconds_torch_over_ours: bestF.adamw_s.median / oursF.adamw_s.median,
    },
  };
}
