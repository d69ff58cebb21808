import type { Value } from '../onnx/graph.js';
import { Ops } from '../onnx/ops.js';
import { backprop } from '../onnx/autodiff.js';
import { serializeModel } from '../onnx/serialize.js';
import type { ResolvedModelConfig } from '../model/config.js';
import { paramSpecs } from '../model/params.js';
import { layerOutput, layerQkv, lmHead, ropeInputs } from '../model/transformer.js';
import type { ParamLookup } from '../model/transformer.js';
import { perTokenLoss, pgLossInputs, tokenLogprobs } from './heads.js';
import type { LossKind } from './heads.js';

/**
 * The pieces of the model that the host drives one at a time for long sequences (activation
 * checkpointing): each decoder layer is split around its attention, whose blockwise kernels live in
 * src/attention. Every piece comes from the one model definition (`layerQkv`, `layerOutput`,
 * `lmHead`); a graph is built for layer 0's parameter names and serves every layer (the host feeds
 * layer i's tensors under layer 0's names). Tokens of one micro-batch are packed into a single row,
 * so the batch axis is 1.
 *
 * Backward graphs are vector-Jacobian products: the forward piece is recomputed from its saved
 * input, the scalar sum(output * upstream gradient) is differentiated by the autodiff, and every
 * parameter gradient is added to an accumulator input (`grad_acc.NAME` -> `grad.NAME`), which the
 * host feeds and fetches in place, so gradients never take a second copy.
 */
export interface PieceGraph {
  bytes: Uint8Array;
  /** Parameter names (layer 0's for layer pieces) the graph takes as inputs, in input order. */
  params: string[];
}

export const gradAccName = (param: string): string => `grad_acc.${param}`;
export const pieceGradName = (param: string): string => `grad.${param}`;

/** Parameters become graph inputs on first use, so a piece takes exactly the tensors it reads. */
function lazyParams(o: Ops, c: ResolvedModelConfig): { lookup: ParamLookup; used: Value[] } {
  const shapes = new Map(paramSpecs(c).map((s) => [s.name, s.shape]));
  const byName = new Map<string, Value>();
  const used: Value[] = [];
  return {
    used,
    lookup: (name) => {
      let v = byName.get(name);
      if (v === undefined) {
        const shape = shapes.get(name);
        if (shape === undefined) throw new Error(`unknown parameter ${name}`);
        v = o.input(name, shape);
        byName.set(name, v);
        used.push(v);
      }
      return v;
    },
  };
}

/** Adds the accumulated parameter gradients of `loss` as outputs, and the gradients of `extra` under their names. */
function finishBackward(o: Ops, loss: Value, used: readonly Value[], extra: Record<string, Value>, plus: Record<string, Value> = {}): void {
  const wrt = [...Object.values(extra), ...used];
  const grads = backprop(o, loss, wrt);
  for (const [name, v] of Object.entries(extra)) {
    const gv = grads.get(v.name) as Value;
    const base = plus[name];
    o.output(base === undefined ? gv : o.add(base, gv), name);
  }
  for (const p of used) o.output(o.add(o.input(gradAccName(p.name), p.shape), grads.get(p.name) as Value), pieceGradName(p.name));
}

const dot = (o: Ops, a: Value, b: Value): Value => o.reduceSum(o.mul(a, b), [...a.shape.keys()], false);

/**
 * Layer input h [1, T, D] -> q [KV, g, T, hd] (scaled), k and v [KV, T, hd]. With `backward`, takes
 * dq/dk/dv and `dh_in` (the gradient reaching h through the residual and the layer's second half)
 * and returns the total `dh`.
 */
export function buildLayerQkvGraph(c: ResolvedModelConfig, backward: boolean): PieceGraph {
  const { numKvHeads: KV, numHeads: H, headDim: hd, hiddenSize: D } = c;
  const g = H / KV;
  const o = new Ops(backward ? 'layer_qkv_bwd' : 'layer_qkv');
  const h = o.input('h', [1, 'T', D]);
  const cos = o.input('cos', [1, 'T', hd]);
  const sin = o.input('sin', [1, 'T', hd]);
  const { lookup, used } = lazyParams(o, c);
  const r = layerQkvOut(o, c, lookup, h, ropeInputs(o, c, cos, sin), g);
  if (!backward) {
    o.output(r.q, 'q');
    o.output(r.k, 'k');
    o.output(r.v, 'v');
  } else {
    const dq = o.input('dq', [KV, g, 'T', hd]);
    const dk = o.input('dk', [KV, 'T', hd]);
    const dv = o.input('dv', [KV, 'T', hd]);
    const dhIn = o.input('dh_in', [1, 'T', D]);
    const loss = o.add(o.add(dot(o, r.q, dq), dot(o, r.k, dk)), dot(o, r.v, dv));
    finishBackward(o, loss, used, { dh: h }, { dh: dhIn });
  }
  return { bytes: serializeModel(o.g), params: used.map((v) => v.name) };
}

function layerQkvOut(o: Ops, c: ResolvedModelConfig, p: ParamLookup, h: Value, r: ReturnType<typeof ropeInputs>, g: number): { q: Value; k: Value; v: Value } {
  const { numKvHeads: KV, headDim: hd } = c;
  const x = layerQkv(o, c, p, 0, h, r, false);
  const heads = (t: Value): Value => o.transpose(o.reshape(t, [-1, KV, hd], ['T', KV, hd]), [1, 0, 2]);
  const q = o.transpose(o.reshape(x.q, [-1, KV, g, hd], ['T', KV, g, hd]), [1, 2, 0, 3]);
  return { q, k: heads(x.k), v: heads(x.v) };
}

/**
 * Layer input h [1, T, D] and attention output [KV, g, T, hd] -> layer output [1, T, D]. With
 * `backward`, takes `dh_out` and returns `dh` (to the layer input) and `d_attn`.
 */
export function buildLayerOutputGraph(c: ResolvedModelConfig, backward: boolean): PieceGraph {
  const { numKvHeads: KV, numHeads: H, headDim: hd, hiddenSize: D } = c;
  const g = H / KV;
  const o = new Ops(backward ? 'layer_out_bwd' : 'layer_out');
  const h = o.input('h', [1, 'T', D]);
  const attn = o.input('attn', [KV, g, 'T', hd]);
  const { lookup, used } = lazyParams(o, c);
  const merged = o.reshape(o.transpose(attn, [2, 0, 1, 3]), [1, -1, H * hd], [1, 'T', H * hd]);
  const out = layerOutput(o, c, lookup, 0, h, merged, false);
  if (!backward) o.output(out, 'h_out');
  else finishBackward(o, dot(o, out, o.input('dh_out', [1, 'T', D])), used, { dh: h, d_attn: attn });
  return { bytes: serializeModel(o.g), params: used.map((v) => v.name) };
}

/**
 * A chunk of n tokens of the last hidden state x [n, D] -> final norm, LM head, log-softmax at
 * 1/temperature, the targets' logprobs and the entropies; the [n, V] logits exist only for the
 * chunk. `kind` adds the weighted loss of the chunk and its backward (dx and the accumulated
 * gradients of the final norm and the head); without it the graph scores only.
 */
export function buildHeadChunkGraph(c: ResolvedModelConfig, kind: LossKind | undefined): PieceGraph {
  const o = new Ops(kind === undefined ? 'head_score' : `head_${kind}`);
  const x = o.input('x', ['n', c.hiddenSize]);
  const targets = o.input('targets', ['n'], 'int32');
  const invTemp = o.input('inv_temp', []);
  const { lookup, used } = lazyParams(o, c);
  const h = tokenLogprobs(o, lmHead(o, c, lookup, x), targets, invTemp);
  o.output(h.tokLogp, 'logprobs');
  o.output(h.entropy, 'entropy');
  if (kind !== undefined) {
    const weight = o.input('weight', ['n']);
    const perTok = perTokenLoss(o, kind, h.tokLogp, h.entropy, kind === 'pg' ? pgLossInputs(o, ['n']) : undefined);
    const loss = o.reduceSum(o.mul(perTok, weight), [0], false);
    o.output(loss, 'loss');
    finishBackward(o, loss, used, { dx: x });
  }
  return { bytes: serializeModel(o.g), params: used.map((v) => v.name) };
}
