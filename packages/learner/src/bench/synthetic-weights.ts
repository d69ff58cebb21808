/**
 * F32 weights shaped like a small decoder-only transformer, for transfer benchmarks: a few large
 * tensors (embedding, MLP and attention projections) and many small ones (norms), every byte
 * fresh per version as after an optimizer step.
 */
import { randomFillSync } from 'node:crypto';
import type { WeightTensor } from '@acereason/transport';

export interface TransformerShape {
  hidden: number;
  layers: number;
  ffn: number;
  /** Embedding rows: what is left of the byte budget after the layers. */
  vocab: number;
}

/** A shape whose total is `targetBytes` (to one embedding row). */
export function shapeForBytes(targetBytes: number): TransformerShape {
  const hidden = targetBytes >= 64 << 20 ? 384 : 128;
  const layers = targetBytes >= 64 << 20 ? 8 : 6;
  const ffn = hidden * 4;
  const perLayer = 4 * hidden * hidden + 3 * hidden * ffn + 2 * hidden;
  const vocab = Math.max(1, Math.floor((targetBytes / 4 - layers * perLayer - hidden) / hidden));
  return { hidden, layers, ffn, vocab };
}

/** The tensors of one version; they share one buffer (a flat parameter vector), filled with random bytes. */
export function syntheticWeights(shape: TransformerShape): WeightTensor[] {
  const { hidden: h, layers, ffn, vocab } = shape;
  const specs: Array<[string, number[]]> = [['embed_tokens.weight', [vocab, h]]];
  for (let l = 0; l < layers; l++) {
    const p = `layers.${l}`;
    specs.push(
      [`${p}.input_layernorm.weight`, [h]],
      [`${p}.self_attn.q_proj.weight`, [h, h]],
      [`${p}.self_attn.k_proj.weight`, [h, h]],
      [`${p}.self_attn.v_proj.weight`, [h, h]],
      [`${p}.self_attn.o_proj.weight`, [h, h]],
      [`${p}.post_attention_layernorm.weight`, [h]],
      [`${p}.mlp.gate_proj.weight`, [ffn, h]],
      [`${p}.mlp.up_proj.weight`, [ffn, h]],
      [`${p}.mlp.down_proj.weight`, [h, ffn]],
    );
  }
  specs.push(['norm.weight', [h]]);
  const total = specs.reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1) * 4, 0);
  const flat = randomFillSync(new Uint8Array(total));
  let off = 0;
  return specs.map(([name, dims]) => {
    const bytes = dims.reduce((a, b) => a * b, 1) * 4;
    const data = flat.subarray(off, off + bytes);
    off += bytes;
    return { name, dtype: 'F32', shape: dims, data };
  });
}
