import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradCheck, randn } from './gradcheck.js';
import type { GradCheckInput } from './gradcheck.js';
import type { Ops } from './ops.js';
import type { Value } from './graph.js';

const TOL = 1e-6;

async function check(name: string, f: (o: Ops, xs: Value[]) => Value, inputs: GradCheckInput[]): Promise<void> {
  const r = await gradCheck(f, inputs);
  assert.ok(r.checked > 0, `${name}: nothing checked`);
  assert.ok(r.maxRelErr < TOL, `${name}: max relative error ${r.maxRelErr} (abs ${r.maxAbsErr})`);
}
const x = (name: string, shape: number[], data?: Float64Array): GradCheckInput => (data ? { name, shape, data } : { name, shape });
const at = (xs: Value[], i: number): Value => xs[i] as Value;
const positive = (n: number, seed: number): Float64Array => randn(n, seed).map((v) => Math.abs(v) + 0.5);

test('every op gradient matches central finite differences', async (t) => {
  const cases: [string, (o: Ops, xs: Value[]) => Value, GradCheckInput[]][] = [
    ['Add (broadcast)', (o, v) => o.add(at(v, 0), at(v, 1)), [x('a', [2, 3, 4]), x('b', [4])]],
    ['Sub (broadcast)', (o, v) => o.sub(at(v, 0), at(v, 1)), [x('a', [2, 3, 4]), x('b', [2, 1, 4])]],
    ['Mul (broadcast)', (o, v) => o.mul(at(v, 0), at(v, 1)), [x('a', [2, 3, 4]), x('b', [3, 1])]],
    ['Div', (o, v) => o.div(at(v, 0), at(v, 1)), [x('a', [2, 3]), x('b', [2, 3], positive(6, 7))]],
    ['Neg', (o, v) => o.neg(at(v, 0)), [x('a', [5])]],
    ['Sqrt', (o, v) => o.sqrt(at(v, 0)), [x('a', [5], positive(5, 3))]],
    ['Exp', (o, v) => o.exp(at(v, 0)), [x('a', [2, 3])]],
    ['Sigmoid', (o, v) => o.sigmoid(at(v, 0)), [x('a', [2, 3])]],
    ['Softmax', (o, v) => o.softmax(at(v, 0)), [x('a', [2, 5])]],
    ['LogSoftmax', (o, v) => o.logSoftmax(at(v, 0)), [x('a', [2, 5])]],
    ['MatMul 2-D', (o, v) => o.matmul(at(v, 0), at(v, 1)), [x('a', [3, 4]), x('b', [4, 2])]],
    ['MatMul 3-D x 2-D', (o, v) => o.matmul(at(v, 0), at(v, 1)), [x('a', [2, 3, 4]), x('b', [4, 5])]],
    ['MatMul batched 4-D', (o, v) => o.matmul(at(v, 0), at(v, 1)), [x('a', [2, 2, 3, 4]), x('b', [2, 2, 4, 3])]],
    ['Transpose', (o, v) => o.transpose(at(v, 0), [2, 0, 1]), [x('a', [2, 3, 4])]],
    ['Reshape', (o, v) => o.reshape(at(v, 0), [0, -1], [2, 12]), [x('a', [2, 3, 4])]],
    ['ReduceSum keepdims', (o, v) => o.reduceSum(at(v, 0), [-1], true), [x('a', [2, 3, 4])]],
    ['ReduceMean keepdims', (o, v) => o.reduceMean(at(v, 0), [-1], true), [x('a', [2, 3, 4])]],
    ['ReduceMean', (o, v) => o.reduceMean(at(v, 0), [0, 2], false), [x('a', [2, 3, 4])]],
    ['Pow (constant exponent)', (o, v) => o.pow(at(v, 0), o.scalar(2)), [x('a', [2, 3])]],
    ['Pow (fractional exponent)', (o, v) => o.pow(at(v, 0), o.scalar(1.5)), [x('a', [2, 3], positive(6, 9))]],
    ['ReduceSum', (o, v) => o.reduceSum(at(v, 0), [0, 2], false), [x('a', [2, 3, 4])]],
    ['Concat', (o, v) => o.concat([at(v, 0), at(v, 1)], -1), [x('a', [2, 3]), x('b', [2, 2])]],
    ['Split', (o, v) => { const [p, q] = o.split(at(v, 0), 1, [2, 3]); return o.mul(p as Value, o.reduceSum(q as Value, [1], true)); }, [x('a', [2, 5])]],
    ['Gather (embedding, repeated ids)', (o, v) => o.gather(at(v, 0), at(v, 1)), [x('e', [5, 3]), { name: 'i', shape: [2, 3], fixed: { type: 'int32', data: Int32Array.from([0, 4, 4, 1, 0, 2]) } }]],
    ['GatherElements', (o, v) => o.gatherElements(at(v, 0), at(v, 1), -1), [x('a', [2, 3, 5]), { name: 'i', shape: [2, 3, 1], fixed: { type: 'int32', data: Int32Array.from([0, 4, 2, 1, 3, 3]) } }]],
    ['Clip', (o, v) => o.clip(at(v, 0), o.scalar(-0.5), o.scalar(0.7)), [x('a', [3, 4])]],
    ['Min', (o, v) => o.min(at(v, 0), at(v, 1)), [x('a', [3, 4]), x('b', [3, 4])]],
    ['Max', (o, v) => o.max(at(v, 0), at(v, 1)), [x('a', [3, 4]), x('b', [4])]],
    ['Unsqueeze + Expand', (o, v) => o.expandLike(o.unsqueeze(at(v, 0), [0]), at(v, 1)), [x('a', [3, 4]), x('b', [2, 3, 4])]],
  ];
  for (const [name, f, inputs] of cases) await t.test(name, () => check(name, f, inputs));
});
