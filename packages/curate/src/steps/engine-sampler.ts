/** A ResponseSampler on the embedded engine: the demo model and char tokenizer unless told otherwise. */
import { readFileSync } from 'node:fs';
import { CharTokenizer, DEMO_ALPHABET, DEMO_MODEL, createOnnxEngine, type ModelConfig, type PolicyEngine, type Tokenizer } from '@acereason/policy';
import type { CurateRow } from '../types.js';
import type { ResponseSampler } from './difficulty.js';

export interface EngineSamplerOptions {
  /** safetensors file; fresh seeded weights when omitted. */
  weightsPath?: string;
  model?: ModelConfig;
  tokenizer?: Tokenizer;
  /** Must contain {problem} (default "q:{problem}=", the demo's). */
  promptTemplate?: string;
  maxNewTokens?: number;
  temperature?: number;
  seed?: number;
  threads?: number;
}

export class EngineSampler implements ResponseSampler, AsyncDisposable {
  private constructor(
    private readonly engine: PolicyEngine,
    private readonly tokenizer: Tokenizer,
    private readonly opts: Required<Pick<EngineSamplerOptions, 'promptTemplate' | 'maxNewTokens' | 'temperature' | 'seed'>>,
  ) {}

  static async create(o: EngineSamplerOptions = {}): Promise<EngineSampler> {
    const template = o.promptTemplate ?? 'q:{problem}=';
    if (!template.includes('{problem}')) throw new RangeError('promptTemplate must contain {problem}');
    const weights = o.weightsPath === undefined ? undefined : new Uint8Array(readFileSync(o.weightsPath));
    const engine = await createOnnxEngine({ model: o.model ?? DEMO_MODEL, ...(weights ? { weights } : {}), seed: o.seed ?? 1, threads: o.threads ?? 1 });
    return new EngineSampler(engine, o.tokenizer ?? new CharTokenizer(DEMO_ALPHABET), {
      promptTemplate: template,
      maxNewTokens: o.maxNewTokens ?? 32,
      temperature: o.temperature ?? 1,
      seed: o.seed ?? 1,
    });
  }

  async sample(rows: readonly CurateRow[], k: number): Promise<string[][]> {
    const samples = await this.engine.generate(rows.map((r, i) => ({
      sampleKey: String(i),
      promptTokens: this.tokenizer.encode(this.opts.promptTemplate.replace('{problem}', r.problem)),
      numSamples: k,
      sampling: { temperature: this.opts.temperature, topP: 1, topK: 0, maxNewTokens: this.opts.maxNewTokens, stopTokens: this.tokenizer.eosTokenId === undefined ? [] : [this.tokenizer.eosTokenId] },
      seed: this.opts.seed + i,
    })));
    const out: string[][] = rows.map(() => []);
    for (const s of samples) out[Number(s.sampleKey)]?.push(this.tokenizer.decode(s.tokens));
    return out;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.engine.dispose();
  }
}
