import ort from 'onnxruntime-node';
import { ValidationError } from '@acereason/protocol';
import type { FloatType } from '../onnx/ops.js';
import { createSession } from '../runtime/session.js';
import type { OrtSession, RuntimeOptions } from '../runtime/session.js';
import { buildAttentionBackwardBlock, buildAttentionForwardBlock } from './blocks.js';
import type { BlockShape } from './blocks.js';
import { allocLike, slicePlanes, writePlanes } from './planes.js';
import type { FArray } from './planes.js';

/** Query and key block lengths of blockwise attention (tokens). */
export interface AttentionBlocks {
  query: number;
  key: number;
}

export const DEFAULT_ATTENTION_BLOCKS: AttentionBlocks = { query: 512, key: 512 };

export function validateAttentionBlocks(b: AttentionBlocks, field = 'attentionBlocks'): AttentionBlocks {
  for (const k of ['query', 'key'] as const) {
    if (!Number.isInteger(b[k]) || b[k] < 1) throw new ValidationError(`${field}.${k}`, `must be an integer >= 1, got ${String(b[k])}`);
  }
  return b;
}

/**
 * One packed row of T tokens: `segStart[t]` is the index of the first token of t's sequence, so
 * token t attends to keys segStart[t]..t (causal within its own sequence, nothing across).
 */
export interface PackedRow {
  T: number;
  segStart: Int32Array;
}

/** q [KV, g, T, hd] (scaled), k and v [KV, T, hd]. */
export interface AttentionTensors {
  q: FArray;
  k: FArray;
  v: FArray;
}

/**
 * Blockwise causal attention driven from the host: query blocks in order, and for each the key
 * blocks it can see (blocks entirely outside the row's sequences are skipped). Memory is linear in T:
 * the largest tensor is one [KV, g * Bq, Bk] score block.
 */
export class BlockAttention {
  private constructor(
    private readonly s: BlockShape,
    private readonly ft: FloatType,
    private readonly blocks: AttentionBlocks,
    private readonly fwd: OrtSession,
    private readonly bwd: OrtSession,
  ) {}

  static async create(s: BlockShape, ft: FloatType, rt: RuntimeOptions, blocks: AttentionBlocks = DEFAULT_ATTENTION_BLOCKS): Promise<BlockAttention> {
    validateAttentionBlocks(blocks);
    const [fwd, bwd] = await Promise.all([createSession(buildAttentionForwardBlock(s, ft), rt), createSession(buildAttentionBackwardBlock(s, ft), rt)]);
    return new BlockAttention(s, ft, blocks, fwd, bwd);
  }

  private t(data: FArray, dims: number[]): ort.Tensor {
    return new ort.Tensor(this.ft, data, dims);
  }

  /** Key blocks [jFirst, jLast] that query rows [a, a + n) can see. */
  private keyRange(row: PackedRow, a: number, n: number): [number, number] {
    let lo = a;
    for (let t = a; t < a + n; t++) lo = Math.min(lo, row.segStart[t] ?? t);
    return [Math.floor(lo / this.blocks.key), Math.floor((a + n - 1) / this.blocks.key)];
  }

  private indexFeeds(row: PackedRow, a: number, n: number, b: number, nk: number): Record<string, ort.Tensor> {
    const g = this.s.group;
    const qIdx = Int32Array.from({ length: g * n }, (_, i) => a + (i % n));
    const qLo = Int32Array.from({ length: g * n }, (_, i) => row.segStart[a + (i % n)] ?? 0);
    const kIdx = Int32Array.from({ length: nk }, (_, i) => b + i);
    return {
      q_idx: new ort.Tensor('int32', qIdx, [g * n]),
      q_lo: new ort.Tensor('int32', qLo, [g * n]),
      k_idx: new ort.Tensor('int32', kIdx, [nk]),
    };
  }

  /** Keys and values cut into key blocks once per call (reused by every query block). */
  private keyBlocks(x: AttentionTensors, T: number): { k: FArray; v: FArray; b: number; n: number }[] {
    const { kvHeads: KV, headDim: hd } = this.s;
    const out = [];
    for (let b = 0; b < T; b += this.blocks.key) {
      const n = Math.min(this.blocks.key, T - b);
      out.push({ k: slicePlanes(x.k, KV, T, hd, b, n), v: slicePlanes(x.v, KV, T, hd, b, n), b, n });
    }
    return out;
  }

  /** o [KV, g, T, hd] and the per-row log-sum-exp lse [KV, g, T]. */
  async forward(x: AttentionTensors, row: PackedRow): Promise<{ o: FArray; lse: FArray }> {
    const { kvHeads: KV, group: g, headDim: hd } = this.s;
    const T = row.T;
    const P = KV * g;
    const o = allocLike(x.q, P * T * hd);
    const lse = allocLike(x.q, P * T);
    const kb = this.keyBlocks(x, T);
    for (let a = 0; a < T; a += this.blocks.query) {
      const n = Math.min(this.blocks.query, T - a);
      const q = this.t(slicePlanes(x.q, P, T, hd, a, n), [KV, g * n, hd]);
      let m = allocLike(x.q, P * n).fill(-Infinity);
      let l = allocLike(x.q, P * n);
      let acc = allocLike(x.q, P * n * hd);
      const [j0, j1] = this.keyRange(row, a, n);
      for (let j = j0; j <= j1; j++) {
        const blk = kb[j];
        if (blk === undefined) throw new Error('unreachable: key block out of range');
        const r = await this.fwd.run({
          q,
          k: this.t(blk.k, [KV, blk.n, hd]),
          v: this.t(blk.v, [KV, blk.n, hd]),
          m: this.t(m, [KV, g * n, 1]),
          l: this.t(l, [KV, g * n, 1]),
          acc: this.t(acc, [KV, g * n, hd]),
          ...this.indexFeeds(row, a, n, blk.b, blk.n),
        });
        m = r.m_out?.data as FArray;
        l = r.l_out?.data as FArray;
        acc = r.acc_out?.data as FArray;
      }
      for (let i = 0; i < P * n; i++) {
        const li = l[i] as number;
        for (let d = 0; d < hd; d++) acc[i * hd + d] = (acc[i * hd + d] as number) / li;
        l[i] = (m[i] as number) + Math.log(li);
      }
      writePlanes(o, acc, P, T, hd, a, n);
      writePlanes(lse, l, P, T, 1, a, n);
    }
    return { o, lse };
  }

  /** dq, dk, dv for the upstream gradient dO [KV, g, T, hd], from the forward's o and lse. */
  async backward(x: AttentionTensors, o: FArray, lse: FArray, dO: FArray, row: PackedRow): Promise<AttentionTensors> {
    const { kvHeads: KV, group: g, headDim: hd } = this.s;
    const T = row.T;
    const P = KV * g;
    const dq = allocLike(x.q, P * T * hd);
    const kb = this.keyBlocks(x, T);
    const dkv = kb.map((blk) => ({ dk: allocLike(x.q, KV * blk.n * hd), dv: allocLike(x.q, KV * blk.n * hd) }));
    for (let a = 0; a < T; a += this.blocks.query) {
      const n = Math.min(this.blocks.query, T - a);
      const R = g * n;
      const doBlk = slicePlanes(dO, P, T, hd, a, n);
      const oBlk = slicePlanes(o, P, T, hd, a, n);
      const delta = allocLike(x.q, P * n);
      for (let i = 0; i < P * n; i++) {
        let s = 0;
        for (let d = 0; d < hd; d++) s += (doBlk[i * hd + d] as number) * (oBlk[i * hd + d] as number);
        delta[i] = s;
      }
      const dqBlk = allocLike(x.q, P * n * hd);
      const common = {
        q: this.t(slicePlanes(x.q, P, T, hd, a, n), [KV, R, hd]),
        d_out: this.t(doBlk, [KV, R, hd]),
        lse: this.t(slicePlanes(lse, P, T, 1, a, n), [KV, R, 1]),
        delta: this.t(delta, [KV, R, 1]),
      };
      const [j0, j1] = this.keyRange(row, a, n);
      for (let j = j0; j <= j1; j++) {
        const blk = kb[j];
        const acc = dkv[j];
        if (blk === undefined || acc === undefined) throw new Error('unreachable: key block out of range');
        const dq_acc = this.t(dqBlk, [KV, R, hd]);
        const dk_acc = this.t(acc.dk, [KV, blk.n, hd]);
        const dv_acc = this.t(acc.dv, [KV, blk.n, hd]);
        // Accumulates in place: each output is written into the buffer of its *_acc input.
        await this.bwd.run(
          { ...common, k: this.t(blk.k, [KV, blk.n, hd]), v: this.t(blk.v, [KV, blk.n, hd]), dq_acc, dk_acc, dv_acc, ...this.indexFeeds(row, a, n, blk.b, blk.n) },
          { dq_out: dq_acc, dk_out: dk_acc, dv_out: dv_acc },
        );
      }
      writePlanes(dq, dqBlk, P, T, hd, a, n);
    }
    const dk = allocLike(x.q, KV * T * hd);
    const dv = allocLike(x.q, KV * T * hd);
    kb.forEach((blk, j) => {
      const acc = dkv[j];
      if (acc === undefined) return;
      writePlanes(dk, acc.dk, KV, T, hd, blk.b, blk.n);
      writePlanes(dv, acc.dv, KV, T, hd, blk.b, blk.n);
    });
    return { q: dq, k: dk, v: dv };
  }

  async release(): Promise<void> {
    await this.fwd.release();
    await this.bwd.release();
  }
}
