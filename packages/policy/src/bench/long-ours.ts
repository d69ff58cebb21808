/**
 * Our side of one `bench long` row: a training step (forward, PG loss over every response token,
 * backward, clipping, AdamW) on one T-token sequence, `steps` times in this process, with the
 * process's CPU seconds per step, its peak RSS and memory per phase, and ONNX Runtime's own 1024^3
 * MatMul sampled before and after every step (so a change of the machine's load moves both).
 */
import { significant } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import type { NamedTensor } from '../model/params.js';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import { ortMatmulFlops } from './flops.js';

export interface OursRowOptions {
  model: ResolvedModelConfig;
  /** The model's weights (a --model DIR at full depth); random weights from seed 1 otherwise. */
  weights?: NamedTensor[];
  tokens: number;
  steps: number;
  threads: number;
  probe?: { headChunks?: number; backwardLayers?: number };
}

export interface OursRow {
  /** Wall seconds of each step (the first includes session set-up). */
  step_s: number[];
  /** This process's CPU seconds (user + system, every thread) of each step. */
  cpu_s: number[];
  peak_rss_mb: number;
  /** Memory at the end of each phase of the last step. */
  phases: { phase: string; at_s: number; rss_mb: number; max_rss_mb: number }[];
  /** FLOP/s of ONNX Runtime's 1024^3 MatMul, before and after each step. */
  matmul_flops: number[];
}

const round = (x: number): number => significant(x);
const rssMb = (): number => process.resourceUsage().maxRSS / 1024;

export async function measureOursRow(o: OursRowOptions): Promise<OursRow> {
  const c = o.model;
  const T = o.tokens;
  const engine = await createOnnxEngine({ model: c, ...(o.weights ? { weights: o.weights } : { seed: 1 }), threads: o.threads, optimizer: { microBatchTokens: T, learningRate: 1e-6 } });
  try {
    const tokens = Uint32Array.from({ length: T }, (_, i) => (i * 7919 + 13) % c.vocabSize);
    const seq = { tokens, responseStart: 1, advantages: Float32Array.from({ length: T - 1 }, (_, i) => Math.sin(i)), oldLogprobs: new Float32Array(T - 1).fill(-6) };
    const out: OursRow = { step_s: [], cpu_s: [], peak_rss_mb: 0, phases: [], matmul_flops: [] };
    for (let s = 0; s < o.steps; s++) {
      out.matmul_flops.push(await ortMatmulFlops(1024, o.threads, 3));
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      out.phases = [];
      const onPhase = (phase: string): void => {
        out.phases.push({ phase, at_s: round((performance.now() - t0) / 1000), rss_mb: round(process.memoryUsage().rss / 2 ** 20), max_rss_mb: round(rssMb()) });
      };
      out.step_s.push((await engine.trainStep({ sequences: [seq], loss: { kind: 'pg', epsLow: 0.2, epsHigh: 0.28, aggregation: 'token-mean' } }, { ...o.probe, onPhase })).seconds);
      const cpu = process.cpuUsage(cpu0);
      out.cpu_s.push((cpu.user + cpu.system) / 1e6);
      out.matmul_flops.push(await ortMatmulFlops(1024, o.threads, 3));
    }
    out.peak_rss_mb = round(rssMb());
    return out;
  } finally {
    await engine.dispose();
  }
}
