/**
 * The pure model of a `bench long` row: the PyTorch side's memory (where it fits, and how it runs)
 * and each side's FLOPs per step, recomputation included.
 */
import { significant } from '@acereason/protocol';
import { totalmem } from 'node:os';
import type { ResolvedModelConfig } from '../model/config.js';
import { numel, paramSpecs } from '../model/params.js';

/**
 * Estimated peak bytes of the PyTorch step: fp32 weights, gradients and both AdamW moments, the [T, V]
 * logits (with log-softmax and their gradients), and per layer the [H, T, T] scores and probabilities
 * plus the linear layers' activations, which eager keeps for every layer and activation
 * checkpointing (`checkpointed`) for one layer at a time beside every layer's [T, D] input.
 */
export function torchBytes(c: ResolvedModelConfig, T: number, checkpointed: boolean): number {
  const params = paramSpecs(c).reduce((a, s) => a + numel(s.shape), 0);
  const layer = 3 * c.numHeads * T * T + 40 * T * c.hiddenSize;
  const activations = checkpointed ? c.numLayers * T * c.hiddenSize + layer : c.numLayers * layer;
  return 16 * params + 4 * (activations + 4 * T * c.vocabSize);
}

/** Where the PyTorch side fits: three quarters of this machine's memory (it runs first, while this process is small). */
const TORCH_BUDGET_BYTES = 0.75 * totalmem();

/**
 * How the PyTorch side runs a row: eager where it fits (the fastest), else with every decoder layer
 * under torch.utils.checkpoint (what a PyTorch user does when eager does not fit), else skipped.
 */
export function torchMode(c: ResolvedModelConfig, T: number, budget = TORCH_BUDGET_BYTES): { checkpoint: boolean } | { skip: string } {
  if (torchBytes(c, T, false) <= budget) return { checkpoint: false };
  const need = torchBytes(c, T, true);
  if (need <= budget) return { checkpoint: true };
  return { skip: `skipped: needs ~${significant(need / 1e9, 3)} GB with activation checkpointing (budget ${significant(budget / 1e9, 3)} GB: [T, V] logits and one layer's [H, T, T] attention)` };
}

/** Parameters of every decoder layer's matmuls (the 2-D weights), over all layers. */
function layerMatmulParams(c: ResolvedModelConfig): number {
  let n = 0;
  for (const s of paramSpecs(c)) if (s.shape.length === 2 && s.name.startsWith('model.layers.')) n += numel(s.shape);
  return n;
}

/** FLOPs of one training step as run here, recomputation included (causal attention counted on its lower triangle). */
export function longStepFlops(c: ResolvedModelConfig, T: number): number {
  const layerParams = layerMatmulParams(c);
  const unit = c.numHeads * c.headDim * T * (T + 1); // one causal [T, T] x [T, hd] product over all heads
  // Layers: forward, recompute, backward (2x) of the matmuls; attention: forward 2 units, recompute 2, backward 5.
  const layers = 4 * 2 * layerParams * T + c.numLayers * 9 * unit;
  const head = 3 * 2 * c.vocabSize * c.hiddenSize * T;
  return layers + head;
}

/**
 * FLOPs of the PyTorch step as it runs: eager attention multiplies the full [T, T] (masked, not
 * skipped); activation checkpointing adds one forward of every layer.
 */
export function torchStepFlops(c: ResolvedModelConfig, T: number, checkpointed: boolean): number {
  const layerParams = layerMatmulParams(c);
  const unit = 2 * c.numHeads * c.headDim * T * T; // one full [T, T] x [T, hd] product over all heads
  const passes = checkpointed ? 4 : 3; // forward (+ recompute) + backward (2x)
  return passes * 2 * layerParams * T + c.numLayers * (passes * 2) * unit + 3 * 2 * c.vocabSize * c.hiddenSize * T;
}
