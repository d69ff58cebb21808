import { ValidationError, type SamplingParams } from '@acereason/protocol';
import { topPrefix } from './select.js';

/** The sampling settings are the wire's (RolloutTask.sampling), defined once in the protocol. */
export type { SamplingParams };

export function validateSampling(s: SamplingParams, field = 'sampling'): void {
  if (!(s.temperature >= 0) || !Number.isFinite(s.temperature)) throw new ValidationError(`${field}.temperature`, 'must be a finite number >= 0');
  if (!(s.topP > 0 && s.topP <= 1)) throw new ValidationError(`${field}.topP`, 'must be in (0, 1]');
  if (!Number.isInteger(s.topK) || s.topK < 0) throw new ValidationError(`${field}.topK`, 'must be an integer >= 0');
  if (!Number.isInteger(s.maxNewTokens) || s.maxNewTokens < 1) throw new ValidationError(`${field}.maxNewTokens`, 'must be an integer >= 1');
  if (!Array.isArray(s.stopTokens) || s.stopTokens.some((t) => !Number.isInteger(t) || t < 0)) throw new ValidationError(`${field}.stopTokens`, 'must be an array of token ids');
}

export interface SampledToken {
  token: number;
  logprob: number;
  entropy: number;
}

/**
 * Draws one token from a row of logits with uniform `u` (`scratch` and `order` are reusable
 * workspaces of the vocabulary's size). Logprob and entropy are of the full
 * tempered distribution (before top-k/top-p truncation), which is what the learner recomputes.
 */
export function sampleToken(logits: Float32Array, offset: number, vocab: number, s: SamplingParams, u: number, scratch: Float64Array, order?: Int32Array): SampledToken {
  const inv = s.temperature > 0 ? 1 / s.temperature : 1;
  let mx = -Infinity;
  for (let i = 0; i < vocab; i++) mx = Math.max(mx, (logits[offset + i] ?? 0) * inv);
  let z = 0;
  for (let i = 0; i < vocab; i++) {
    const e = Math.exp((logits[offset + i] ?? 0) * inv - mx);
    scratch[i] = e;
    z += e;
  }
  const logZ = Math.log(z) + mx;
  let entropy = 0;
  for (let i = 0; i < vocab; i++) {
    const p = (scratch[i] ?? 0) / z;
    scratch[i] = p;
    if (p > 0) entropy -= p * ((logits[offset + i] ?? 0) * inv - logZ);
  }
  let token = 0;
  if (s.temperature === 0) {
    let best = -Infinity;
    for (let i = 0; i < vocab; i++) if ((logits[offset + i] ?? 0) > best) { best = logits[offset + i] ?? 0; token = i; }
  } else if (s.topK === 0 && s.topP >= 1) {
    let acc = 0;
    token = vocab - 1;
    for (let i = 0; i < vocab; i++) {
      acc += scratch[i] ?? 0;
      if (u < acc) { token = i; break; }
    }
  } else {
    // Top-k / top-p by partial selection: the kept set, then the token where the kept mass
    // crosses u -- the same token a full sort would give, without sorting the vocabulary.
    const idx = order !== undefined && order.length >= vocab ? order : new Int32Array(vocab);
    for (let i = 0; i < vocab; i++) idx[i] = i;
    const k = s.topK > 0 ? Math.min(s.topK, vocab) : vocab;
    const kept = topPrefix(scratch, idx, 0, vocab, s.topP, k, false);
    let mass = 0;
    for (let r = 0; r < kept; r++) mass += scratch[idx[r] as number] as number;
    const n = topPrefix(scratch, idx, 0, kept, u * mass, kept, true);
    token = idx[Math.max(0, n - 1)] as number;
  }
  return { token, logprob: (logits[offset + token] ?? 0) * inv - logZ, entropy };
}
