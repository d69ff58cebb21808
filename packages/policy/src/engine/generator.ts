import ort from 'onnxruntime-node';
import type { ResolvedModelConfig } from '../model/config.js';
import type { OrtSession, Feeds } from '../runtime/session.js';
import { f32, i32, outF32 } from '../runtime/session.js';
import { MASKED, causalMask, ropeInvFreq, ropeTables } from '../graphs/host-inputs.js';
import { SampleRng } from '../sampling/rng.js';
import { sampleToken, validateSampling } from '../sampling/sampler.js';
import type { SamplingParams } from '../sampling/sampler.js';
import type { FinishReason, GenerateRequest, GeneratedSample } from './types.js';
import { ValidationError } from '@acereason/protocol';

interface Row {
  taskId: string;
  sampleIndex: number;
  prompt: Uint32Array;
  sampling: SamplingParams;
  rng: SampleRng;
  tokens: number[];
  logprobs: number[];
  entropy: number[];
  finish?: FinishReason;
}

/**
 * Batched generation over the prefill/decode graph. Rows are right-padded for prefill; each decode
 * step appends one K/V slot to every row, masks each row's padding hole, and drops finished rows
 * from the batch.
 */
export class Generator {
  private readonly inv: Float64Array;
  private readonly scratch: Float64Array;

  constructor(private readonly c: ResolvedModelConfig, private readonly session: OrtSession, private readonly maxBatch: number) {
    this.inv = ropeInvFreq(c);
    this.scratch = new Float64Array(c.vocabSize);
  }

  async generate(requests: readonly GenerateRequest[]): Promise<GeneratedSample[]> {
    const rows: Row[] = [];
    requests.forEach((r, i) => {
      const f = `requests[${i}]`;
      validateSampling(r.sampling, `${f}.sampling`);
      if (r.promptTokens.length === 0) throw new ValidationError(`${f}.promptTokens`, 'must not be empty');
      if (r.promptTokens.length >= this.c.maxPositions) throw new ValidationError(`${f}.promptTokens`, `longer than maxPositions (${this.c.maxPositions})`);
      if (r.promptTokens.some((t) => t >= this.c.vocabSize)) throw new ValidationError(`${f}.promptTokens`, 'token id outside the vocabulary');
      if (!Number.isInteger(r.numSamples) || r.numSamples < 1) throw new ValidationError(`${f}.numSamples`, 'must be an integer >= 1');
      for (let s = 0; s < r.numSamples; s++) {
        rows.push({ taskId: r.taskId, sampleIndex: s, prompt: r.promptTokens, sampling: r.sampling, rng: new SampleRng(r.seed, r.taskId, s), tokens: [], logprobs: [], entropy: [] });
      }
    });
    for (let i = 0; i < rows.length; i += this.maxBatch) await this.runBatch(rows.slice(i, i + this.maxBatch));
    return rows.map((r) => ({
      taskId: r.taskId,
      sampleIndex: r.sampleIndex,
      tokens: Uint32Array.from(r.tokens),
      logprobs: Float32Array.from(r.logprobs),
      entropy: Float32Array.from(r.entropy),
      finishReason: r.finish ?? 'length',
    }));
  }

  /** Samples the next token of each row from its logits; returns whether the row is finished. */
  private take(row: Row, logits: Float32Array, b: number): boolean {
    const V = this.c.vocabSize;
    const s = sampleToken(logits, b * V, V, row.sampling, row.rng.next(), this.scratch);
    row.tokens.push(s.token);
    row.logprobs.push(s.logprob);
    row.entropy.push(s.entropy);
    if (row.sampling.stopTokens.includes(s.token)) row.finish = 'stop';
    else if (row.tokens.length >= row.sampling.maxNewTokens || row.prompt.length + row.tokens.length >= this.c.maxPositions) row.finish = 'length';
    return row.finish !== undefined;
  }

  private async runBatch(batch: Row[]): Promise<void> {
    const { numLayers: L, numKvHeads: KV, headDim: hd, hiddenSize: D } = this.c;
    let B = batch.length;
    const T = Math.max(...batch.map((r) => r.prompt.length));
    const lens = batch.map((r) => r.prompt.length);
    const ids = new Int32Array(B * T);
    const pos = new Int32Array(B * T);
    const pick = new Int32Array(B * D);
    batch.forEach((r, b) => {
      ids.set(r.prompt, b * T);
      for (let t = 0; t < T; t++) pos[b * T + t] = t;
      pick.fill((r.prompt.length - 1), b * D, (b + 1) * D);
    });
    const rt = ropeTables(this.c, pos, this.inv);
    const empty = new Float32Array(0);
    const feeds: Feeds = {
      ids: i32(ids, [B, T]),
      cos: f32(rt.cos, [B, T, hd]),
      sin: f32(rt.sin, [B, T, hd]),
      mask: f32(causalMask(lens, T), [B, 1, 1, T, T]),
      pick: i32(pick, [B, 1, D]),
    };
    for (let l = 0; l < L; l++) {
      feeds[`past_k_${l}`] = f32(empty, [B, KV, 0, hd]);
      feeds[`past_v_${l}`] = f32(empty, [B, KV, 0, hd]);
    }
    let out = await this.session.run(feeds);
    let active = batch.map((_, b) => b);
    let logits = outF32(out, 'logits');
    let kept = active.filter((b) => !this.take(batch[b] as Row, logits, active.indexOf(b)));
    let cache = [...Array(L).keys()].flatMap((l) => [out[`present_k_${l}`] as ort.Tensor, out[`present_v_${l}`] as ort.Tensor]);
    let Tk = T;
    for (let step = 1; kept.length > 0; step++) {
      if (kept.length !== active.length) {
        const keepIdx = kept.map((b) => active.indexOf(b));
        cache = cache.map((t) => selectRows(t, keepIdx));
        active = kept;
      }
      B = active.length;
      const stepIds = new Int32Array(B);
      const stepPos = new Int32Array(B);
      const mask = new Float32Array(B * (Tk + 1));
      active.forEach((b, k) => {
        const r = batch[b] as Row;
        stepIds[k] = r.tokens[r.tokens.length - 1] ?? 0;
        stepPos[k] = r.prompt.length + step - 1;
        // Slots [len, T) are this row's prompt padding.
        mask.fill(MASKED, k * (Tk + 1) + r.prompt.length, k * (Tk + 1) + T);
      });
      const st = ropeTables(this.c, stepPos, this.inv);
      const df: Feeds = {
        ids: i32(stepIds, [B, 1]),
        cos: f32(st.cos, [B, 1, hd]),
        sin: f32(st.sin, [B, 1, hd]),
        mask: f32(mask, [B, 1, 1, 1, Tk + 1]),
        pick: i32(new Int32Array(B * D), [B, 1, D]),
      };
      for (let l = 0; l < L; l++) {
        df[`past_k_${l}`] = cache[2 * l] as ort.Tensor;
        df[`past_v_${l}`] = cache[2 * l + 1] as ort.Tensor;
      }
      out = await this.session.run(df);
      Tk += 1;
      logits = outF32(out, 'logits');
      cache = [...Array(L).keys()].flatMap((l) => [out[`present_k_${l}`] as ort.Tensor, out[`present_v_${l}`] as ort.Tensor]);
      kept = active.filter((b, k) => !this.take(batch[b] as Row, logits, k));
    }
  }
}

/** Keeps the given batch rows of a [B, ...] tensor. */
function selectRows(t: ort.Tensor, rows: readonly number[]): ort.Tensor {
  const dims = [...t.dims];
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  const src = t.data as Float32Array;
  const dst = new Float32Array(rows.length * per);
  rows.forEach((r, i) => dst.set(src.subarray(r * per, (r + 1) * per), i * per));
  dims[0] = rows.length;
  return new ort.Tensor('float32', dst, dims);
}
