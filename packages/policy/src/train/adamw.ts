import { DecodeError } from '@acereason/protocol';
import type { NamedTensor } from '../model/params.js';
import { readSafetensors, writeSafetensors } from '../weights/safetensors.js';
import type { OptimizerConfig } from './optimizer-config.js';

/** Norm and bias parameters are not decayed (the usual AdamW convention). */
export const decays = (name: string): boolean => !name.endsWith('.bias') && !name.includes('norm');

/**
 * AdamW with decoupled weight decay, on host Float32Arrays. Arithmetic is done in doubles and
 * stored as float32 in a fixed order, so a run is bit-reproducible and its state round-trips exactly.
 */
export class AdamW {
  step = 0;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();

  /** Applies one update in place. `gradScale` multiplies every gradient (clipping). */
  update(params: readonly NamedTensor[], grads: ReadonlyMap<string, Float32Array>, lr: number, gradScale: number, cfg: OptimizerConfig): void {
    this.step += 1;
    const { beta1: b1, beta2: b2, eps } = cfg;
    const bc1 = 1 - Math.pow(b1, this.step);
    const bc2 = 1 - Math.pow(b2, this.step);
    for (const p of params) {
      const g = grads.get(p.name);
      if (g === undefined) throw new Error(`no gradient for ${p.name}`);
      let m = this.m.get(p.name);
      let v = this.v.get(p.name);
      if (m === undefined || v === undefined) {
        m = new Float32Array(p.data.length);
        v = new Float32Array(p.data.length);
        this.m.set(p.name, m);
        this.v.set(p.name, v);
      }
      const decay = decays(p.name) ? 1 - lr * cfg.weightDecay : 1;
      const w = p.data;
      for (let i = 0; i < w.length; i++) {
        const gi = (g[i] as number) * gradScale;
        const mi = b1 * (m[i] as number) + (1 - b1) * gi;
        const vi = b2 * (v[i] as number) + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = (w[i] as number) * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
      }
    }
  }

  save(): Uint8Array {
    const tensors: NamedTensor[] = [];
    for (const [name, m] of [...this.m].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      tensors.push({ name: `m.${name}`, dtype: 'F32', shape: [m.length], data: m });
      tensors.push({ name: `v.${name}`, dtype: 'F32', shape: [m.length], data: this.v.get(name) ?? new Float32Array(m.length) });
    }
    return writeSafetensors(tensors, { format: 'acereason-adamw-1', step: String(this.step) });
  }

  load(bytes: Uint8Array): void {
    const f = readSafetensors(bytes);
    if (f.metadata.format !== 'acereason-adamw-1') throw new DecodeError('optimizer state: unknown format');
    this.m.clear();
    this.v.clear();
    for (const t of f.tensors) {
      if (t.name.startsWith('m.')) this.m.set(t.name.slice(2), t.data);
      else if (t.name.startsWith('v.')) this.v.set(t.name.slice(2), t.data);
    }
    this.step = Number(f.metadata.step ?? 0);
  }
}

/** sqrt(sum of squares) over all gradients, accumulated in double. */
export function globalNorm(grads: ReadonlyMap<string, Float32Array>): number {
  let s = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) s += (g[i] as number) * (g[i] as number);
  return Math.sqrt(s);
}
