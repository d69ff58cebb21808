import type { Dim, Value } from '../onnx/graph.js';
import type { Ops } from '../onnx/ops.js';

export type LossKind = 'pg' | 'sft';

/** Per-token logprob of `targets` and entropy of softmax(logits / temperature). */
export function tokenLogprobs(o: Ops, logits: Value, targets: Value, invTemp: Value): { logp: Value; tokLogp: Value; entropy: Value } {
  const logp = o.logSoftmax(o.mul(logits, invTemp), -1);
  const tokLogp = o.reshapeLike(o.gatherElements(logp, o.unsqueeze(targets, [-1]), -1), targets);
  const entropy = o.neg(o.reduceSum(o.mul(o.exp(logp), logp), [-1], false));
  return { logp, tokLogp, entropy };
}

/** The per-token inputs and scalars of the PG loss, as graph inputs of the given token shape. */
export interface PgLossInputs {
  adv: Value;
  old: Value;
  ref: Value;
  epsLow: Value;
  epsHigh: Value;
  klCoef: Value;
  entCoef: Value;
}

export function pgLossInputs(o: Ops, shape: readonly Dim[]): PgLossInputs {
  return {
    adv: o.input('advantages', shape),
    old: o.input('old_logprobs', shape),
    ref: o.input('ref_logprobs', shape),
    epsLow: o.input('eps_low', []),
    epsHigh: o.input('eps_high', []),
    klCoef: o.input('kl_coef', []),
    entCoef: o.input('ent_coef', []),
  };
}

/**
 * The unweighted per-token loss:
 *   pg:  -min(r A, clip(r, 1-eps_low, 1+eps_high) A) + kl_coef * k3(ref) - ent_coef * H
 *   sft: -log p(target)
 */
export function perTokenLoss(o: Ops, kind: LossKind, tokLogp: Value, entropy: Value, pg: PgLossInputs | undefined): Value {
  if (kind === 'sft') return o.neg(tokLogp);
  if (pg === undefined) throw new Error('pg loss needs its inputs');
  const one = o.scalar(1);
  const ratio = o.exp(o.sub(tokLogp, pg.old));
  const clipped = o.clip(ratio, o.sub(one, pg.epsLow), o.add(one, pg.epsHigh));
  const loss = o.neg(o.min(o.mul(ratio, pg.adv), o.mul(clipped, pg.adv)));
  const d = o.sub(pg.ref, tokLogp);
  const k3 = o.sub(o.sub(o.exp(d), d), one);
  return o.sub(o.add(loss, o.mul(pg.klCoef, k3)), o.mul(pg.entCoef, entropy));
}
