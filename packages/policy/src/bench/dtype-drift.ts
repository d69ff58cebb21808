import { significant } from '@acereason/protocol';
import type { OnnxEngine } from '../engine/onnx-engine.js';
import type { GenerateRequest } from '../engine/types.js';

export interface DriftOptions {
  prompts: number;
  samples: number;
  newTokens: number;
  seed: number;
  promptTokens?: number;
}

/** How far the behaviour logprobs of the engine's generation graphs are from the float32 learner's. */
export interface GenerationDrift {
  dtype: string;
  tokens: number;
  /** |generate logprob - float32 score logprob| over every generated token. */
  max_abs: number;
  mean_abs: number;
  /** The same for the entropies. */
  entropy_max_abs: number;
  generate_s: number;
}

/**
 * Samples with the engine's generation graphs (whatever their dtype), then scores the very same
 * tokens with the float32 long-sequence path that training uses: the difference is what an
 * importance ratio would see from the generation precision alone (float32 graphs: ~1e-6).
 */
export async function generationDrift(engine: OnnxEngine, o: DriftOptions): Promise<GenerationDrift> {
  const V = engine.model.vocabSize;
  const P = o.promptTokens ?? 9;
  const reqs: GenerateRequest[] = Array.from({ length: o.prompts }, (_, k) => ({
    sampleKey: `drift${k}`,
    promptTokens: Uint32Array.from({ length: P }, (_, i) => (i * 7919 + k * 104729 + 1) % V),
    numSamples: o.samples,
    seed: o.seed,
    sampling: { temperature: 1, topP: 1, topK: 0, maxNewTokens: o.newTokens, stopTokens: [] },
  }));
  const t0 = performance.now();
  const out = await engine.generate(reqs);
  const generateS = (performance.now() - t0) / 1000;
  const scored = await engine.score(out.map((s) => {
    const p = reqs.find((r) => r.sampleKey === s.sampleKey)?.promptTokens ?? new Uint32Array();
    return { tokens: Uint32Array.from([...p, ...s.tokens]), scoreFrom: p.length };
  }));
  let n = 0;
  let sum = 0;
  let max = 0;
  let emax = 0;
  out.forEach((s, i) => {
    const sc = scored[i];
    if (sc === undefined) return;
    for (let t = 0; t < s.tokens.length; t++) {
      const d = Math.abs((s.logprobs[t] ?? NaN) - (sc.logprobs[t] ?? NaN));
      sum += d;
      max = Math.max(max, Number.isNaN(d) ? Infinity : d);
      emax = Math.max(emax, Math.abs((s.entropy[t] ?? NaN) - (sc.entropy[t] ?? NaN)));
      n++;
    }
  });
  const r = (x: number): number => significant(x, 3);
  return { dtype: engine.generationDtype, tokens: n, max_abs: r(max), mean_abs: r(sum / Math.max(1, n)), entropy_max_abs: r(emax), generate_s: r(generateS) };
}
