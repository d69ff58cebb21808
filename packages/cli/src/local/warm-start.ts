/**
 * A quick supervised warm start of the demo model on `q:a+b=` -> `\boxed{d}` with random digits:
 * the model learns the answer format but not the sums, so rewards vary within groups. Used by the
 * chaos benchmark and tests that need non-trivial rewards in a few seconds.
 */
import { CharTokenizer, DEMO_ALPHABET, DEMO_MODEL, createOnnxEngine, type TrainSequence } from '@acereason/policy';

export const WARM_PROMPT_TEMPLATE = 'q:{problem}=';

/** Problems `a+b` with a, b < 5 (single-digit answers), ids p0, p1, ... */
export function smallSums(n: number): { id: string; problem: string; answer: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const a = i % 5;
    const b = (i * 3) % 5;
    return { id: `p${i}`, problem: `${a}+${b}`, answer: String(a + b) };
  });
}

const warmCache = new Map<string, Promise<Uint8Array>>();

/**
 * The warm-started weights (safetensors). Deterministic for given steps and seed, so they are made
 * once per process and each caller gets its own copy (the chaos benchmark's two runs, the tests).
 */
export async function warmStartWeights(opts: { steps?: number; seed?: number } = {}): Promise<Uint8Array> {
  const key = `${opts.steps ?? 60}:${opts.seed ?? 7}`;
  let made = warmCache.get(key);
  if (!made) {
    made = trainWarmStart(opts);
    warmCache.set(key, made);
    made.catch(() => warmCache.delete(key));
  }
  return (await made).slice();
}

async function trainWarmStart(opts: { steps?: number; seed?: number }): Promise<Uint8Array> {
  const tok = new CharTokenizer(DEMO_ALPHABET);
  const engine = await createOnnxEngine({ model: DEMO_MODEL, seed: opts.seed ?? 7, threads: 1, optimizer: { learningRate: 3e-3, weightDecay: 0, maxGradNorm: 1, schedule: 'constant' } });
  try {
    let x = 12345;
    const rnd = (): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
    for (let step = 0; step < (opts.steps ?? 60); step++) {
      const sequences: TrainSequence[] = smallSums(20).map((p) => {
        const prompt = tok.encode(WARM_PROMPT_TEMPLATE.replace('{problem}', p.problem));
        const response = Uint32Array.from([...tok.encode(`\\boxed{${Math.floor(rnd() * 10)}}`), tok.eosTokenId]);
        const tokens = new Uint32Array(prompt.length + response.length);
        tokens.set(prompt);
        tokens.set(response, prompt.length);
        return { tokens, responseStart: prompt.length };
      });
      await engine.trainStep({ sequences, loss: { kind: 'sft', aggregation: 'token-mean' } });
    }
    return engine.exportSafetensors();
  } finally {
    await engine.dispose();
  }
}
