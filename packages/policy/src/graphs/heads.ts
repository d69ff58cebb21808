import type { Value } from '../onnx/graph.js';
import type { Ops } from '../onnx/ops.js';

/** Per-token logprob of `targets` and entropy of softmax(logits / temperature). */
export function tokenLogprobs(o: Ops, logits: Value, targets: Value, invTemp: Value): { logp: Value; tokLogp: Value; entropy: Value } {
  const logp = o.logSoftmax(o.mul(logits, invTemp), -1);
  const tokLogp = o.reshapeLike(o.gatherElements(logp, o.unsqueeze(targets, [-1]), -1), targets);
  const entropy = o.neg(o.reduceSum(o.mul(o.exp(logp), logp), [-1], false));
  return { logp, tokLogp, entropy };
}
