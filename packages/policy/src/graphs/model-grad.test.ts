import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { buildTrainingGraph, gradName } from './compile.js';
import type { LossKind } from './compile.js';
import { causalMask, ropeTables } from './host-inputs.js';
import { validateModelConfig } from '../model/config.js';
import { initWeights } from '../model/params.js';
import { createSession, outF64 } from '../runtime/session.js';
import type { Feeds } from '../runtime/session.js';
import { randn } from '../onnx/gradcheck.js';

const c = validateModelConfig({ vocabSize: 11, hiddenSize: 8, intermediateSize: 12, numLayers: 2, numHeads: 4, numKvHeads: 2, ropeTheta: 100, maxPositions: 32, rmsNormEps: 1e-6, attentionBias: true, tieEmbeddings: false });
const tied = { ...c, tieEmbeddings: true, attentionBias: false };

async function checkModel(cfg: typeof c, kind: LossKind, scale: number): Promise<void> {
  const { bytes, paramNames } = buildTrainingGraph(cfg, kind, 'float64');
  const session = await createSession(bytes, { executionProvider: 'cpu', threads: 1 });
  const B = 2;
  const T = 5;
  const lens = [5, 3];
  const ids = Int32Array.from([1, 4, 2, 9, 7, 3, 3, 8, 0, 0]);
  const targets = Int32Array.from([4, 2, 9, 7, 0, 3, 8, 0, 0, 0]);
  const pos = Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
  const rt = ropeTables(cfg, pos);
  const weight = Float64Array.from([0, 0.3, 0.2, 0.25, 0, 0.5, 0.4, 0, 0, 0]);
  const w64 = new Map(initWeights(cfg, 1).map((t) => [t.name, Float64Array.from(t.data, (x, i) => x * scale + (t.name.includes('norm') || t.name.endsWith('bias') ? 0.1 * Math.sin(i + 1) : 0))]));
  const shapes = new Map(initWeights(cfg, 1).map((t) => [t.name, t.shape]));
  const feeds = (override?: [string, Float64Array]): Feeds => {
    const f: Feeds = {
      ids: new ort.Tensor('int32', ids, [B, T]),
      targets: new ort.Tensor('int32', targets, [B, T]),
      cos: new ort.Tensor('float64', Float64Array.from(rt.cos), [B, T, cfg.headDim]),
      sin: new ort.Tensor('float64', Float64Array.from(rt.sin), [B, T, cfg.headDim]),
      mask: new ort.Tensor('float64', Float64Array.from(causalMask(lens, T)), [B, 1, 1, T, T]),
      weight: new ort.Tensor('float64', weight, [B, T]),
      inv_temp: new ort.Tensor('float64', new Float64Array([1 / 0.8]), []),
    };
    if (kind === 'pg') {
      f.advantages = new ort.Tensor('float64', randn(B * T, 3), [B, T]);
      f.old_logprobs = new ort.Tensor('float64', randn(B * T, 4, 0.3).map((x) => x - 2.4), [B, T]);
      f.ref_logprobs = new ort.Tensor('float64', randn(B * T, 5, 0.3).map((x) => x - 2.4), [B, T]);
      f.eps_low = new ort.Tensor('float64', new Float64Array([0.2]), []);
      f.eps_high = new ort.Tensor('float64', new Float64Array([0.28]), []);
      f.kl_coef = new ort.Tensor('float64', new Float64Array([0.1]), []);
      f.ent_coef = new ort.Tensor('float64', new Float64Array([0.05]), []);
    }
    for (const [name, data] of w64) f[name] = new ort.Tensor('float64', override?.[0] === name ? override[1] : data, shapes.get(name) ?? []);
    return f;
  };
  try {
    const base = await session.run(feeds());
    let worst = 0;
    let checked = 0;
    const eps = 1e-6;
    for (const name of paramNames) {
      const g = outF64(base, gradName(name));
      const x0 = w64.get(name) as Float64Array;
      const picks = [0, Math.floor(x0.length / 2), x0.length - 1, Math.floor(x0.length / 3)];
      for (const j of picks) {
        const xp = Float64Array.from(x0);
        xp[j] = (xp[j] ?? 0) + eps;
        const xm = Float64Array.from(x0);
        xm[j] = (xm[j] ?? 0) - eps;
        const lp = outF64(await session.run(feeds([name, xp]), ['loss']), 'loss')[0] ?? NaN;
        const lm = outF64(await session.run(feeds([name, xm]), ['loss']), 'loss')[0] ?? NaN;
        const fd = (lp - lm) / (2 * eps);
        const an = g[j] ?? NaN;
        const rel = Math.abs(fd - an) / Math.max(1e-6, Math.abs(fd) + Math.abs(an));
        assert.ok(!Number.isNaN(rel), `${name}[${j}] NaN`);
        if (Math.abs(fd - an) > 1e-8) worst = Math.max(worst, rel);
        if (process.env.GRAD_DEBUG && rel > 1e-4) process.stderr.write(`${name}[${j}] fd=${fd} an=${an}\n`);
        checked++;
      }
    }
    assert.ok(checked >= paramNames.length * 3);
    assert.ok(worst < 1e-4, `${kind}: worst relative error ${worst}`);
  } finally {
    await session.release();
  }
}

test('whole-model gradient matches finite differences: clipped PG + KL + entropy', () => checkModel(c, 'pg', 4));
test('whole-model gradient matches finite differences: SFT, tied embeddings, no bias', () => checkModel(tied, 'sft', 15));
