import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchHost, summarize } from '@acereason/protocol';
import type { BenchOptions, BenchReport } from '@acereason/protocol';
import { hfPreset } from '../model/hf-presets.js';
import { modelConfigFromHf } from '../model/hf-config.js';
import { numel, paramSpecs } from '../model/params.js';
import { writeRandomHfModelDir } from '../weights/random-model.js';

const CHILD = fileURLToPath(new URL('./model-bench-child.js', import.meta.url));

function child(task: string, args: string[], quick: boolean): Record<string, number | Record<string, number>> {
  const r = spawnSync(process.execPath, ['--max-old-space-size=8192', CHILD, task, ...args], { encoding: 'utf8', env: { ...process.env, ACEREASON_BENCH_QUICK: quick ? '1' : '0' }, maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench model ${task} failed (exit ${String(r.status)}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, number | Record<string, number>>;
}

/**
 * `acereason bench model`: a random-weight Qwen3-0.6B directory at full size (bf16, 2 shards;
 * reduced width with `quick`): load time and peak RSS (ours: streamed tensor by tensor; baseline:
 * each shard read whole then decoded, the former path), generation at batch 1 and 8, and a
 * checkpoint written (F32 shards) and read back; and the memory of a generator with baked weights
 * (the real width with 1 layer; the quick shape with `quick`). Each measurement runs in its own process.
 */
export async function benchModel(o: BenchOptions = {}): Promise<BenchReport> {
  const quick = o.quick === true;
  const config = hfPreset('Qwen3-0.6B', quick ? { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16 } : {});
  const c = modelConfigFromHf(config);
  const params = paramSpecs(c).reduce((n, s) => n + numel(s.shape), 0);
  const root = mkdtempSync(join(tmpdir(), 'bench-model-'));
  try {
    const dir = join(root, 'Qwen3-0.6B');
    const t0 = performance.now();
    writeRandomHfModelDir(dir, config, { seed: 1, dtype: 'BF16', maxShardBytes: Math.ceil((params * 2) / 2) + 1 });
    const writeRandomS = (performance.now() - t0) / 1000;
    const rounds = quick ? 1 : 3;
    const ours: Record<string, number>[] = [];
    const base: Record<string, number>[] = [];
    for (let i = 0; i < rounds; i++) {
      ours.push(child('load', [dir], quick) as Record<string, number>);
      base.push(child('load-whole-files', [dir], quick) as Record<string, number>);
    }
    const med = (xs: Record<string, number>[], k: string): ReturnType<typeof summarize> => summarize(xs.map((x) => x[k] as number));
    const load = { seconds: med(ours, 'seconds'), peak_rss_mb: med(ours, 'peak_rss_mb'), f32_bytes: ours[0]?.f32_bytes };
    const whole = { seconds: med(base, 'seconds'), peak_rss_mb: med(base, 'peak_rss_mb') };
    const checkpoint = child('checkpoint', [dir, join(root, 'checkpoint')], quick);
    const generation = child('generate', [dir], quick);
    // Baked weights (the full-size model is above the bake limit, so it is fed): the real width with 1 layer.
    const bakedConfig = quick ? config : hfPreset('Qwen3-0.6B', { num_hidden_layers: 1 });
    const bakedGenerator = { layers: bakedConfig.num_hidden_layers, ...child('baked-generator', [JSON.stringify(bakedConfig)], quick) };
    return {
      suite: 'model',
      host: benchHost(),
      model: { preset: 'Qwen3-0.6B', reduced: quick, parameters: params, dtype: 'bf16', shards: 2, write_random_seconds: writeRandomS },
      load,
      load_whole_files: whole,
      generation,
      baked_generator: bakedGenerator,
      checkpoint,
      ratios: {
        load_seconds_whole_files_over_streamed: whole.seconds.median / load.seconds.median,
        load_peak_rss_whole_files_over_streamed: whole.peak_rss_mb.median / load.peak_rss_mb.median,
      },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
