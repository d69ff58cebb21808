/**
 * One measurement of `acereason bench model` in its own process, so its peak RSS is its own.
 * argv: <task> <model dir | config JSON for baked-generator> [out dir]; prints one JSON line.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadHfModelDir } from '../weights/hf-model-dir.js';
import { writeHfModelDir } from '../weights/hf-dir-writer.js';
import { readSafetensors } from '../weights/safetensors.js';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import { Generator } from '../engine/generator.js';
import { modelConfigFromHf } from '../model/hf-config.js';
import { initWeights, paramSpecs } from '../model/params.js';
import type { NamedTensor } from '../model/params.js';
import { allocateFlat } from '../train/flat.js';

const [task, dir, out] = process.argv.slice(2) as [string, string, string | undefined];
const now = (): number => performance.now() / 1000;
const rssMb = (): number => process.resourceUsage().maxRSS / 1024;
async function main(): Promise<Record<string, unknown>> {
  if (task === 'load') {
    const t0 = now();
    const m = loadHfModelDir(dir);
    return { seconds: now() - t0, f32_bytes: m.weights.reduce((n, t) => n + t.data.byteLength, 0), peak_rss_mb: rssMb() };
  }
  if (task === 'load-whole-files') {
    // The former path: each shard read whole (readFileSync), then decoded.
    const t0 = now();
    let n = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.safetensors'))) n += readSafetensors(readFileSync(join(dir, f))).tensors.reduce((a, t) => a + t.data.byteLength, 0);
    return { seconds: now() - t0, f32_bytes: n, peak_rss_mb: rssMb() };
  }
  if (task === 'checkpoint') {
    const m = loadHfModelDir(dir);
    const loadedRss = rssMb();
    const target = out as string;
    const t0 = now();
    writeHfModelDir(target, { config: m.hfConfig, tensors: m.weights, dtype: 'F32', files: m.assets.files });
    const wSeconds = now() - t0;
    const bytes = m.weights.reduce((n, t) => n + t.data.byteLength, 0);
    const writeRss = rssMb();
    m.weights.length = 0;
    const t1 = now();
    const back = loadHfModelDir(target);
    const rSeconds = now() - t1;
    rmSync(target, { recursive: true, force: true });
    return { bytes, write_seconds: wSeconds, write_mb_s: bytes / 2 ** 20 / wSeconds, read_seconds: rSeconds, read_mb_s: bytes / 2 ** 20 / rSeconds, rss_after_load_mb: loadedRss, peak_rss_after_write_mb: writeRss, peak_rss_mb: rssMb(), tensors: back.weights.length };
  }
  if (task === 'generate') {
    const m = loadHfModelDir(dir);
    const engine = await createOnnxEngine({ model: m.model, weights: m.weights, adoptWeights: true, inferenceOnly: true, threads: 2, maxBatch: 8 });
    const res: Record<string, unknown> = {};
    const quick = process.env.ACEREASON_BENCH_QUICK === '1';
    const T = quick ? 8 : 32;
    const N = quick ? 4 : 16;
    for (const B of [1, 8]) {
      const reqs = (n: number): Parameters<typeof engine.generate>[0] => [...Array(B).keys()].map((b) => ({
        sampleKey: `b${b}`, promptTokens: Uint32Array.from({ length: T }, (_, i) => (i * 7919 + b * 104729) % m.model.vocabSize), numSamples: 1, seed: b,
        sampling: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens: n, stopTokens: [] },
      }));
      await engine.generate(reqs(2)); // warm-up: graph and arena set-up
      const t0 = now();
      await engine.generate(reqs(1));
      const tPrefill = now() - t0;
      const t1 = now();
      await engine.generate(reqs(N));
      const tAll = now() - t1;
      res[`batch_${B}`] = { prompt_tokens: T, new_tokens: N, prefill_tokens_s: (B * T) / tPrefill, decode_tokens_s: (B * (N - 1)) / Math.max(1e-9, tAll - tPrefill), prefill_seconds: tPrefill, total_seconds: tAll };
    }
    await engine.dispose();
    return { ...res, peak_rss_mb: rssMb() };
  }
  if (task === 'baked-generator') {
    // The generator with its weights baked into the graph (the path of models up to the bake limit),
    // at the shape in `dir` (a config.json's JSON): RSS with the weights alone, the peak while the
    // generator is created and runs a batch, and what it holds after.
    const c = modelConfigFromHf(JSON.parse(dir) as Record<string, unknown>);
    const flat = allocateFlat(paramSpecs(c));
    const weights = initWeights(c, 1, (_, k) => (flat[k] as NamedTensor).data);
    const bytes = weights.reduce((n, t) => n + t.data.byteLength, 0);
    const withWeights = process.memoryUsage().rss / 2 ** 20;
    const g = await Generator.create(c, weights, { executionProvider: 'cpu', threads: 1 }, 8, Number.POSITIVE_INFINITY, true);
    await g.generate([...Array(8).keys()].map((b) => ({
      sampleKey: `b${b}`, promptTokens: Uint32Array.from({ length: 32 }, (_, i) => (i * 7919 + b * 104729) % c.vocabSize), numSamples: 1, seed: b,
      sampling: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens: 8, stopTokens: [] },
    })));
    const after = process.memoryUsage().rss / 2 ** 20;
    const peak = rssMb();
    await g.release();
    return { parameters: bytes / 4, weights_mb: bytes / 2 ** 20, rss_with_weights_mb: withWeights, peak_rss_mb: peak, rss_after_mb: after, generator_peak_over_weights: (peak - withWeights) / (bytes / 2 ** 20), generator_held_over_weights: (after - withWeights) / (bytes / 2 ** 20) };
  }
  throw new Error(`unknown task ${task}`);
}

main().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
