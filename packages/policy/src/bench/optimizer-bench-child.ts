/**
 * Our side of `acereason bench optimizer` in its own process (its memory is freed before the
 * PyTorch side allocates its own): the trainer's optimizer step (AdamW.globalNorm, the clipping
 * scale, AdamW.update) over flat parameter, gradient and moment buffers of the given sizes.
 * argv[2]: JSON { params: [[numel, decay], ...], threads, steps, lr, weightDecay, betas, eps, maxGradNorm, seed }.
 * Prints one JSON line.
 */
import type { NamedTensor } from '../model/params.js';
import { AdamW } from '../train/adamw.js';
import { allocateFlat } from '../train/flat.js';
import { DEFAULT_OPTIMIZER } from '../train/optimizer-config.js';

export interface OptimizerChildArgs {
  params: [number, boolean][];
  threads: number;
  steps: number;
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  maxGradNorm: number;
  seed: number;
}

/** Uniform values in [-scale, scale) from a 32-bit xorshift (cheap enough for 10^9 elements). */
function fill(a: Float32Array, seed: number, scale: number): void {
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = ((x >>> 0) / 2147483648 - 1) * scale;
  }
}

async function main(a: OptimizerChildArgs): Promise<Record<string, unknown>> {
  // Names only carry the decay mask (AdamW's `decays`: norms are not decayed).
  const specs = a.params.map(([n, decay], i) => ({ name: decay ? `p${i}.weight` : `p${i}.norm.weight`, shape: [n] }));
  const params = allocateFlat(specs);
  const grads: NamedTensor[] = allocateFlat(specs);
  params.forEach((p, i) => fill(p.data, a.seed + i, 0.035));
  grads.forEach((g, i) => fill(g.data, a.seed + 1000 + i, 1.7e-3));
  const byName = new Map(grads.map((g) => [g.name, g.data]));
  const cfg = { ...DEFAULT_OPTIMIZER, learningRate: a.lr, weightDecay: a.weightDecay, beta1: a.betas[0], beta2: a.betas[1], eps: a.eps, maxGradNorm: a.maxGradNorm };
  const adam = new AdamW({ executionProvider: 'cpu', threads: a.threads });
  adam.prepare(params);
  const step = async (): Promise<Record<string, number>> => {
    const t0 = performance.now();
    const norm = await adam.globalNorm(byName);
    const scale = norm > cfg.maxGradNorm ? cfg.maxGradNorm / (norm + 1e-6) : 1;
    const t1 = performance.now();
    await adam.update(params, byName, cfg.learningRate, scale, cfg);
    const t2 = performance.now();
    return { norm_clip_s: (t1 - t0) / 1000, adamw_s: (t2 - t1) / 1000, step_s: (t2 - t0) / 1000, grad_norm: norm };
  };
  try {
    await step(); // creates the sessions: not a steady-state step
    const steps: Record<string, number>[] = [];
    for (let i = 0; i < a.steps; i++) steps.push(await step());
    return { steps, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    await adam.release();
  }
}

main(JSON.parse(process.argv[2] ?? '{}') as OptimizerChildArgs)
  .then((r) => process.stdout.write(JSON.stringify(r) + '\n'))
  .catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
