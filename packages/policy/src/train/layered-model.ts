import ort from 'onnxruntime-node';
import { ValidationError } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import type { NamedTensor } from '../model/params.js';
import { layerPrefix } from '../model/params.js';
import { BlockAttention, DEFAULT_ATTENTION_BLOCKS } from '../attention/flash.js';
import type { AttentionBlocks, PackedRow } from '../attention/flash.js';
import { buildHeadChunkGraph, buildLayerOutputGraph, buildLayerQkvGraph, gradAccName, pieceGradName } from '../graphs/layer-graphs.js';
import type { PieceGraph } from '../graphs/layer-graphs.js';
import type { LossKind } from '../graphs/heads.js';
import { ropeTables } from '../graphs/host-inputs.js';
import { createSession, f32, outF32 } from '../runtime/session.js';
import type { Feeds, OrtSession, RuntimeOptions } from '../runtime/session.js';
import type { PackedTokens } from './packing.js';

/** How the long-sequence path cuts its work (all in tokens). */
export interface LongSequenceOptions {
  attentionBlocks: AttentionBlocks;
  /** Tokens per LM-head chunk: the [chunk, vocab] logits are the largest tensor of the head. */
  headChunkTokens: number;
}

/**
 * Bytes of one [chunk, vocab] float32 tensor that the default head chunk is sized to. The chunk's
 * forward and backward hold about five tensors of that size at once (measured: ~3 MB per token of
 * chunk at vocab 151,936), so a chunk costs ~5x this in transient memory whatever the vocabulary.
 */
export const HEAD_CHUNK_BYTES = 128 * 2 ** 20;

/** The default LM-head chunk for a vocabulary: HEAD_CHUNK_BYTES of logits, between 16 and 8192 tokens (220 at 151,936). */
export function headChunkTokensFor(vocabSize: number): number {
  return Math.max(16, Math.min(8192, Math.floor(HEAD_CHUNK_BYTES / (4 * vocabSize))));
}

export const DEFAULT_LONG_SEQUENCE: LongSequenceOptions = { attentionBlocks: DEFAULT_ATTENTION_BLOCKS, headChunkTokens: 1024 };

export function validateLongSequence(o: LongSequenceOptions, field = 'longSequence'): LongSequenceOptions {
  if (!Number.isInteger(o.headChunkTokens) || o.headChunkTokens < 1) throw new ValidationError(`${field}.headChunkTokens`, `must be an integer >= 1, got ${String(o.headChunkTokens)}`);
  for (const k of ['query', 'key'] as const) {
    const v = o.attentionBlocks[k];
    if (!Number.isInteger(v) || v < 1) throw new ValidationError(`${field}.attentionBlocks.${k}`, `must be an integer >= 1, got ${String(v)}`);
  }
  return o;
}

/** Per-token loss inputs of one packed micro-batch (row-aligned with `PackedTokens`). */
export interface HeadLoss {
  kind: LossKind;
  weight: Float32Array;
  advantages: Float32Array;
  oldLogprobs: Float32Array;
  refLogprobs: Float32Array;
  scalars: { epsLow: number; epsHigh: number; klCoef: number; entCoef: number };
}

/**
 * Benchmark instrumentation of one training step: `onPhase` is called at the end of the forward,
 * the head and each layer's backward; `headChunks` / `backwardLayers` stop the head after that many
 * chunks and the backward after that many (top) layers, so the peak memory of a step too long to
 * finish can be measured. A truncated step's gradients are incomplete: for measurement only.
 */
export interface StepProbe {
  headChunks?: number;
  backwardLayers?: number;
  onPhase?: (phase: string) => void;
}

interface Piece {
  graph: PieceGraph;
  session: OrtSession;
}

type Fetches = Record<string, ort.Tensor | null>;
const scalar = (x: number): ort.Tensor => new ort.Tensor('float32', new Float32Array([x]), []);
const LAYER0 = `${layerPrefix(0)}.`;

/**
 * The model driven layer by layer from the host, for sequences of any length in memory linear in
 * the length: the forward keeps only each layer's input; the backward recomputes one layer at a
 * time (q/k/v, blockwise attention, then the vector-Jacobian products of the layer's two halves and
 * the attention's blockwise backward); the LM head runs in token chunks.
 */
export class LayeredModel {
  private readonly heads = new Map<string, Promise<Piece>>();

  private constructor(
    private readonly c: ResolvedModelConfig,
    private readonly rt: RuntimeOptions,
    readonly opts: LongSequenceOptions,
    private readonly qkv: Piece,
    private readonly qkvBwd: Piece,
    private readonly out: Piece,
    private readonly outBwd: Piece,
    private readonly attention: BlockAttention,
  ) {}

  static async create(c: ResolvedModelConfig, rt: RuntimeOptions, opts: LongSequenceOptions = DEFAULT_LONG_SEQUENCE): Promise<LayeredModel> {
    validateLongSequence(opts);
    const piece = async (graph: PieceGraph): Promise<Piece> => ({ graph, session: await createSession(graph.bytes, rt) });
    const [qkv, qkvBwd, out, outBwd] = await Promise.all([piece(buildLayerQkvGraph(c, false)), piece(buildLayerQkvGraph(c, true)), piece(buildLayerOutputGraph(c, false)), piece(buildLayerOutputGraph(c, true))]);
    const attention = await BlockAttention.create({ kvHeads: c.numKvHeads, group: c.numHeads / c.numKvHeads, headDim: c.headDim }, 'float32', rt, opts.attentionBlocks);
    return new LayeredModel(c, rt, opts, qkv, qkvBwd, out, outBwd, attention);
  }

  private head(kind: LossKind | undefined): Promise<Piece> {
    const key = kind ?? 'score';
    let p = this.heads.get(key);
    if (p === undefined) {
      const graph = buildHeadChunkGraph(this.c, kind);
      p = createSession(graph.bytes, this.rt).then((session) => ({ graph, session }));
      this.heads.set(key, p);
    }
    return p;
  }

  /** Feeds a piece's parameters (layer 0's names) from layer `layer`'s tensors, and its gradient accumulators. */
  private paramFeeds(piece: Piece, layer: number, params: ReadonlyMap<string, NamedTensor>, grads?: ReadonlyMap<string, Float32Array>): { feeds: Feeds; fetches: Fetches } {
    const feeds: Feeds = {};
    const fetches: Fetches = {};
    for (const name of piece.graph.params) {
      const real = name.startsWith(LAYER0) ? `${layerPrefix(layer)}.${name.slice(LAYER0.length)}` : name;
      const t = params.get(real);
      if (t === undefined) throw new Error(`weights lack ${real}`);
      feeds[name] = f32(t.data, t.shape);
      if (grads !== undefined) {
        const g = grads.get(real);
        if (g === undefined) throw new Error(`no gradient buffer for ${real}`);
        // Fed and fetched with the same buffer: the graph adds this piece's gradient in place.
        const acc = f32(g, t.shape);
        feeds[gradAccName(name)] = acc;
        fetches[pieceGradName(name)] = acc;
      }
    }
    return { feeds, fetches };
  }

  private embed(tok: PackedTokens, params: ReadonlyMap<string, NamedTensor>): Float32Array {
    const D = this.c.hiddenSize;
    const e = params.get('model.embed_tokens.weight')?.data;
    if (e === undefined) throw new Error('weights lack model.embed_tokens.weight');
    const h = new Float32Array(tok.T * D);
    for (let t = 0; t < tok.T; t++) {
      const id = tok.ids[t] as number;
      h.set(e.subarray(id * D, (id + 1) * D), t * D);
    }
    return h;
  }

  private rope(tok: PackedTokens): Feeds {
    const { cos, sin } = ropeTables(this.c, tok.positions);
    return { cos: f32(cos, [1, tok.T, this.c.headDim]), sin: f32(sin, [1, tok.T, this.c.headDim]) };
  }

  private async layerAttention(layer: number, h: Float32Array, tok: PackedTokens, rope: Feeds, params: ReadonlyMap<string, NamedTensor>): Promise<{ q: Float32Array; k: Float32Array; v: Float32Array; o: Float32Array; lse: Float32Array }> {
    const r = await this.qkv.session.run({ h: f32(h, [1, tok.T, this.c.hiddenSize]), ...rope, ...this.paramFeeds(this.qkv, layer, params).feeds });
    const x = { q: outF32(r, 'q'), k: outF32(r, 'k'), v: outF32(r, 'v') };
    const row: PackedRow = { T: tok.T, segStart: tok.segStart };
    const a = await this.attention.forward(x, row);
    return { ...x, o: a.o as Float32Array, lse: a.lse as Float32Array };
  }

  private async layerForward(layer: number, h: Float32Array, tok: PackedTokens, rope: Feeds, params: ReadonlyMap<string, NamedTensor>): Promise<Float32Array> {
    const { o } = await this.layerAttention(layer, h, tok, rope, params);
    const dims = this.attnDims(tok.T);
    const r = await this.out.session.run({ h: f32(h, [1, tok.T, this.c.hiddenSize]), attn: f32(o, dims), ...this.paramFeeds(this.out, layer, params).feeds });
    return outF32(r, 'h_out');
  }

  private attnDims(T: number): number[] {
    return [this.c.numKvHeads, this.c.numHeads / this.c.numKvHeads, T, this.c.headDim];
  }

  /** The last layer's output for every token, keeping each layer's input when `keep` is given. */
  private async forwardLayers(tok: PackedTokens, params: ReadonlyMap<string, NamedTensor>, keep?: Float32Array[]): Promise<Float32Array> {
    const rope = this.rope(tok);
    let h = this.embed(tok, params);
    for (let l = 0; l < this.c.numLayers; l++) {
      keep?.push(h);
      h = await this.layerForward(l, h, tok, rope, params);
    }
    return h;
  }

  private chunks(T: number): [number, number][] {
    const out: [number, number][] = [];
    for (let a = 0; a < T; a += this.opts.headChunkTokens) out.push([a, Math.min(this.opts.headChunkTokens, T - a)]);
    return out;
  }

  /** Per-token logprob of the next token and entropy at 1/`invTemp` temperature, for every position of the row. */
  async score(tok: PackedTokens, params: ReadonlyMap<string, NamedTensor>, invTemp: number): Promise<{ logprobs: Float32Array; entropy: Float32Array }> {
    const hL = await this.forwardLayers(tok, params);
    const head = await this.head(undefined);
    const logprobs = new Float32Array(tok.T);
    const entropy = new Float32Array(tok.T);
    const D = this.c.hiddenSize;
    for (const [a, n] of this.chunks(tok.T)) {
      const feeds: Feeds = { x: f32(hL.subarray(a * D, (a + n) * D), [n, D]), targets: new ort.Tensor('int32', tok.targets.subarray(a, a + n), [n]), inv_temp: scalar(invTemp), ...this.paramFeeds(head, 0, params).feeds };
      await head.session.run(feeds, { logprobs: f32(logprobs.subarray(a, a + n), [n]), entropy: f32(entropy.subarray(a, a + n), [n]) });
    }
    return { logprobs, entropy };
  }

  /**
   * Forward, loss and backward of one packed micro-batch; adds every parameter's gradient into
   * `grads` (same names as `params`). Returns the micro-batch's loss and per-token logprobs/entropy.
   */
  async train(tok: PackedTokens, params: ReadonlyMap<string, NamedTensor>, grads: ReadonlyMap<string, Float32Array>, loss: HeadLoss, invTemp: number, probe: StepProbe = {}): Promise<{ loss: number; logprobs: Float32Array; entropy: Float32Array }> {
    const D = this.c.hiddenSize;
    const T = tok.T;
    const inputs: Float32Array[] = [];
    const hL = await this.forwardLayers(tok, params, inputs);
    probe.onPhase?.('forward');
    const head = await this.head(loss.kind);
    const logprobs = new Float32Array(T);
    const entropy = new Float32Array(T);
    let dh: Float32Array = new Float32Array(T * D);
    let lossSum = 0;
    for (const [a, n] of this.chunks(T).slice(0, probe.headChunks)) {
      const per = (x: Float32Array): ort.Tensor => f32(x.subarray(a, a + n), [n]);
      const { feeds, fetches } = this.paramFeeds(head, 0, params, grads);
      Object.assign(feeds, { x: f32(hL.subarray(a * D, (a + n) * D), [n, D]), targets: new ort.Tensor('int32', tok.targets.subarray(a, a + n), [n]), inv_temp: scalar(invTemp), weight: per(loss.weight) });
      if (loss.kind === 'pg') {
        Object.assign(feeds, { advantages: per(loss.advantages), old_logprobs: per(loss.oldLogprobs), ref_logprobs: per(loss.refLogprobs), eps_low: scalar(loss.scalars.epsLow), eps_high: scalar(loss.scalars.epsHigh), kl_coef: scalar(loss.scalars.klCoef), ent_coef: scalar(loss.scalars.entCoef) });
      }
      Object.assign(fetches, { logprobs: per(logprobs), entropy: per(entropy), dx: f32(dh.subarray(a * D, (a + n) * D), [n, D]), loss: null });
      const r = await head.session.run(feeds, fetches);
      lossSum += outF32(r, 'loss')[0] ?? NaN;
    }
    probe.onPhase?.('head');
    const rope = this.rope(tok);
    const row: PackedRow = { T, segStart: tok.segStart };
    const hDims = [1, T, D];
    const lowest = Math.max(0, this.c.numLayers - (probe.backwardLayers ?? this.c.numLayers));
    for (let l = this.c.numLayers - 1; l >= lowest; l--) {
      const h = inputs[l] as Float32Array;
      const x = await this.layerAttention(l, h, tok, rope, params);
      const ob = this.paramFeeds(this.outBwd, l, params, grads);
      const r1 = await this.outBwd.session.run({ h: f32(h, hDims), attn: f32(x.o, this.attnDims(T)), dh_out: f32(dh, hDims), ...ob.feeds }, { ...ob.fetches, dh: null, d_attn: null });
      const d = await this.attention.backward(x, x.o, x.lse, outF32(r1, 'd_attn'), row);
      const qb = this.paramFeeds(this.qkvBwd, l, params, grads);
      const kvDims = [this.c.numKvHeads, T, this.c.headDim];
      const r2 = await this.qkvBwd.session.run(
        { h: f32(h, hDims), ...rope, dq: f32(d.q as Float32Array, this.attnDims(T)), dk: f32(d.k as Float32Array, kvDims), dv: f32(d.v as Float32Array, kvDims), dh_in: f32(outF32(r1, 'dh'), hDims), ...qb.feeds },
        { ...qb.fetches, dh: null },
      );
      dh = outF32(r2, 'dh');
      inputs[l] = new Float32Array(0);
      probe.onPhase?.(`backward layer ${l}`);
    }
    this.embedBackward(tok, dh, grads);
    return { loss: lossSum, logprobs, entropy };
  }

  private embedBackward(tok: PackedTokens, dh: Float32Array, grads: ReadonlyMap<string, Float32Array>): void {
    const D = this.c.hiddenSize;
    const g = grads.get('model.embed_tokens.weight');
    if (g === undefined) throw new Error('no gradient buffer for model.embed_tokens.weight');
    for (let t = 0; t < tok.T; t++) {
      const base = (tok.ids[t] as number) * D;
      for (let d = 0; d < D; d++) g[base + d] = (g[base + d] as number) + (dh[t * D + d] as number);
    }
  }

  async release(): Promise<void> {
    for (const p of [this.qkv, this.qkvBwd, this.out, this.outBwd]) await p.session.release();
    for (const h of this.heads.values()) await (await h).session.release();
    await this.attention.release();
  }
}
