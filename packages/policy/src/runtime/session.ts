import ort from 'onnxruntime-node';
import { ValidationError } from '@acereason/protocol';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface RuntimeOptions {
  /** `cpu` (default) or `cuda` (needs the GPU build of onnxruntime-node on the host). */
  executionProvider: ExecutionProvider;
  /** Intra-op threads; 0 lets ONNX Runtime decide. */
  threads: number;
}

export type OrtSession = ort.InferenceSession;
export type OrtTensor = ort.Tensor;
export type Feeds = Record<string, ort.Tensor>;

export function validateRuntimeOptions(o: RuntimeOptions): void {
  if (o.executionProvider !== 'cpu' && o.executionProvider !== 'cuda') throw new ValidationError('executionProvider', `must be "cpu" or "cuda", got ${String(o.executionProvider)}`);
  if (!Number.isInteger(o.threads) || o.threads < 0) throw new ValidationError('threads', 'must be a non-negative integer');
}

/** Per-session tuning beyond RuntimeOptions. */
export interface SessionTuning {
  /**
   * false: the intra-op worker threads block between parallel sections instead of spin-waiting.
   * For sessions run thousands of times a step on small inputs (the optimizer's slices), the spinning
   * workers took the cores the calling thread needed (up to 3-5x slower on 2 cores).
   */
  spinning?: boolean;
}

/** Creates an ONNX Runtime session for serialised model bytes (and the external data they reference, see serializeModelExternal). */
export async function createSession(model: Uint8Array, o: RuntimeOptions, externalData?: readonly { path: string; data: Uint8Array }[], tuning: SessionTuning = {}): Promise<OrtSession> {
  validateRuntimeOptions(o);
  return ort.InferenceSession.create(model, {
    ...(tuning.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
    ...(externalData !== undefined && externalData.length > 0 ? { externalData } : {}),
    executionProviders: [o.executionProvider],
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Shapes change every call (batch, length); a recorded memory pattern only helps fixed shapes
    // and made the second run of a new shape as slow as the first.
    enableMemPattern: false,
  });
}

export function f32(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}
export function f64(data: Float64Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float64', data, dims);
}
export function i32(data: Int32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int32', data, dims);
}

/** The data of an output tensor as the given typed array class. */
export function outF32(r: ort.InferenceSession.OnnxValueMapType, name: string): Float32Array {
  const t = r[name];
  if (t === undefined || !(t.data instanceof Float32Array)) throw new Error(`missing float32 output ${name}`);
  return t.data;
}
export function outF64(r: ort.InferenceSession.OnnxValueMapType, name: string): Float64Array {
  const t = r[name];
  if (t === undefined || !(t.data instanceof Float64Array)) throw new Error(`missing float64 output ${name}`);
  return t.data;
}
