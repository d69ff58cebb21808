import ort from 'onnxruntime-node';
import { DecodeError } from '@acereason/protocol';
import type { NamedTensor } from '../model/params.js';
import { createSession, f32, outF32 } from '../runtime/session.js';
import type { OrtSession, RuntimeOptions } from '../runtime/session.js';
import { readSafetensors, writeSafetensors } from '../weights/safetensors.js';
import { allocateFlat } from './flat.js';
import { SUMSQ_ROW, buildAdamWGraph, buildSumSquaresGraph } from './optimizer-graphs.js';
import type { OptimizerConfig } from './optimizer-config.js';

/** Norm and bias parameters are not decayed (the usual AdamW convention). */
export const decays = (name: string): boolean => !name.endsWith('.bias') && !name.includes('norm');

/**
 * Elements per update run: the 14 kernels of a slice work in cache (1M-element slices took 1.5-2x
 * as long per element, memory-bound), and the run's fixed cost (~0.2 ms) stays small against its kernels.
 */
const SLICE = 1 << 17;
/** Rows of SUMSQ_ROW elements per sum-of-squares run (4M elements: one read pass, no intermediates). */
const SUMSQ_ROWS = 4096;

const f32s = (x: number): ort.Tensor => new ort.Tensor('float32', new Float32Array([x]), []);

function slices(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < n; a += SLICE) out.push([a, Math.min(n, a + SLICE)]);
  return out;
}

/**
 * AdamW with decoupled weight decay, run by ONNX Runtime (multi-threaded) over slices of the flat
 * parameter, gradient and moment buffers, updating them in place. Float32 arithmetic in a fixed
 * order, so a run is bit-reproducible and its state round-trips exactly.
 */
export class AdamW {
  step = 0;
  private m = new Map<string, Float32Array>();
  private v = new Map<string, Float32Array>();
  private sessions: Promise<{ adam: OrtSession; sumsq: OrtSession }> | undefined;

  constructor(private readonly rt: RuntimeOptions) {}

  private kernels(): Promise<{ adam: OrtSession; sumsq: OrtSession }> {
    // Thousands of short runs a step: workers that spin between them starve the calling thread.
    const tuning = { spinning: false };
    this.sessions ??= Promise.all([createSession(buildAdamWGraph(), this.rt, undefined, tuning), createSession(buildSumSquaresGraph(), this.rt, undefined, tuning)]).then(([adam, sumsq]) => ({ adam, sumsq }));
    return this.sessions;
  }

  /**
   * Allocates the moments before the first step's forward and writes them (a fresh zeroed buffer's
   * pages are not resident until written), so the first step holds the same static memory as every
   * later one: its peak is the steady state's, and a run that cannot fit fails at step 1, not 2.
   */
  prepare(params: readonly NamedTensor[]): void {
    if (params.every((p) => this.m.has(p.name) && this.v.has(p.name))) return;
    this.moments(params);
    // One write per 4 KiB page makes it resident without changing a value (restored state included).
    for (const b of [...this.m.values(), ...this.v.values()]) for (let i = 0; i < b.length; i += 1024) b[i] = b[i] as number;
  }

  private moments(params: readonly NamedTensor[]): void {
    if (params.every((p) => this.m.has(p.name) && this.v.has(p.name))) return;
    const specs = params.map((p) => ({ name: p.name, shape: [p.data.length] }));
    const m = allocateFlat(specs);
    const v = allocateFlat(specs);
    m.forEach((t) => t.data.set(this.m.get(t.name) ?? new Float32Array(0)));
    v.forEach((t) => t.data.set(this.v.get(t.name) ?? new Float32Array(0)));
    this.m = new Map(m.map((t) => [t.name, t.data]));
    this.v = new Map(v.map((t) => [t.name, t.data]));
  }

  /**
   * sqrt(sum of squares) over all gradients: float32 sums over rows of SUMSQ_ROW elements (ONNX
   * Runtime, one read pass), added in float64 on the host in a fixed order, so the result is the
   * same run to run and for any thread count. The float32 row sums put a relative error of about
   * 1e-7 (at most ~1e-5) on the norm, which only sets the clipping scale; PyTorch's
   * clip_grad_norm_ computes it in float32 throughout.
   */
  async globalNorm(grads: ReadonlyMap<string, Float32Array>): Promise<number> {
    const { sumsq } = await this.kernels();
    let s = 0;
    const add = async (x: Float32Array, rows: number, cols: number): Promise<void> => {
      const r = await sumsq.run({ g: f32(x, [rows, cols]) });
      for (const p of outF32(r, 'sumsq')) s += p;
    };
    for (const g of grads.values()) {
      const full = Math.floor(g.length / SUMSQ_ROW);
      for (let r = 0; r < full; r += SUMSQ_ROWS) {
        const rows = Math.min(SUMSQ_ROWS, full - r);
        await add(g.subarray(r * SUMSQ_ROW, (r + rows) * SUMSQ_ROW), rows, SUMSQ_ROW);
      }
      if (full * SUMSQ_ROW < g.length) await add(g.subarray(full * SUMSQ_ROW), 1, g.length - full * SUMSQ_ROW);
    }
    return Math.sqrt(s);
  }

  /** Applies one update in place. `gradScale` multiplies every gradient (clipping). */
  async update(params: readonly NamedTensor[], grads: ReadonlyMap<string, Float32Array>, lr: number, gradScale: number, cfg: OptimizerConfig): Promise<void> {
    const { adam } = await this.kernels();
    this.moments(params);
    this.step += 1;
    const { beta1: b1, beta2: b2, eps } = cfg;
    // The step's scalars in float64, each rounded once to float32 (see buildAdamWGraph).
    const common = {
      beta1: f32s(b1), c1: f32s((1 - b1) * gradScale), beta2: f32s(b2), c2: f32s((1 - b2) * gradScale * gradScale),
      lr_over_bc1: f32s(lr / (1 - Math.pow(b1, this.step))), inv_sqrt_bc2: f32s(1 / Math.sqrt(1 - Math.pow(b2, this.step))), eps: f32s(eps),
    };
    for (const p of params) {
      const g = grads.get(p.name);
      const m = this.m.get(p.name);
      const v = this.v.get(p.name);
      if (g === undefined || m === undefined || v === undefined) throw new Error(`no gradient for ${p.name}`);
      const decay = f32s(decays(p.name) ? 1 - lr * cfg.weightDecay : 1);
      for (const [a, b] of slices(p.data.length)) {
        const w = f32(p.data.subarray(a, b), [b - a]);
        const mt = f32(m.subarray(a, b), [b - a]);
        const vt = f32(v.subarray(a, b), [b - a]);
        await adam.run({ ...common, decay, w, g: f32(g.subarray(a, b), [b - a]), m: mt, v: vt }, { w_out: w, m_out: mt, v_out: vt });
      }
    }
  }

  /**
   * A fresh optimizer: both moments zero and the step count (bias correction and the learning-rate
   * schedule's position) back to 0, as if this were a new run starting from the current weights.
   */
  reset(): void {
    // Zeroed in place: the buffers stay allocated and resident (see prepare).
    for (const b of [...this.m.values(), ...this.v.values()]) b.fill(0);
    this.step = 0;
  }

  /** The moments as tensors (`m.<param>`, `v.<param>`, sorted by name; views, not copies) and the step. */
  stateTensors(): { step: number; tensors: NamedTensor[] } {
    const tensors: NamedTensor[] = [];
    for (const [name, m] of [...this.m].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      tensors.push({ name: `m.${name}`, dtype: 'F32', shape: [m.length], data: m });
      tensors.push({ name: `v.${name}`, dtype: 'F32', shape: [m.length], data: this.v.get(name) ?? new Float32Array(m.length) });
    }
    return { step: this.step, tensors };
  }

  /** Replaces the state with `stateTensors()` output (the arrays are adopted). */
  loadStateTensors(step: number, tensors: readonly NamedTensor[]): void {
    this.m.clear();
    this.v.clear();
    for (const t of tensors) {
      if (t.name.startsWith('m.')) this.m.set(t.name.slice(2), t.data);
      else if (t.name.startsWith('v.')) this.v.set(t.name.slice(2), t.data);
    }
    this.step = step;
  }

  save(): Uint8Array {
    const s = this.stateTensors();
    return writeSafetensors(s.tensors, { format: 'acereason-adamw-1', step: String(s.step) });
  }

  load(bytes: Uint8Array): void {
    const f = readSafetensors(bytes);
    if (f.metadata.format !== 'acereason-adamw-1') throw new DecodeError('optimizer state: unknown format');
    this.loadStateTensors(Number(f.metadata.step ?? 0), f.tensors);
  }

  async release(): Promise<void> {
    if (this.sessions === undefined) return;
    const s = await this.sessions;
    await s.adam.release();
    await s.sumsq.release();
    this.sessions = undefined;
  }
}
