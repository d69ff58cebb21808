/**
 * `acereason bench loop`: the whole loop on this machine with real processes (nats-server, the
 * learner, 2 actors, 1 verifier) on the demo model.
 *  - the step-time split of strict on-policy training, and the learner's waiting fraction;
 *  - async (max_staleness 1 and 2) vs strict on-policy: steps per minute with the same actors;
 *  - weight sync: publish -> 4 actors holding v+1 over gRPC vs the NATS object store.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchHost, parseJsonl, type BenchOptions, type BenchReport } from '@acereason/protocol';
import type { StepMetrics } from '@acereason/learner';
import { LocalCluster } from '../local/cluster.js';
import { arithmeticProblems } from '../local/demo-data.js';

type Line = Pick<StepMetrics, 'step' | 'time_ms' | 'step_s' | 'wait_rollouts_s' | 'verify_s' | 'train_s' | 'publish_s' | 'staleness_max'>;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function runMode(mode: 'sync' | 'async', k: number, steps: number): Promise<{ stepsPerMin: number; lines: Line[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-bench-loop-'));
  try {
    const runId = `bench-${mode}-${k}`;
    writeFileSync(join(dir, 'math.jsonl'), arithmeticProblems(400).map((p) => JSON.stringify(p)).join('\n') + '\n');
    writeFileSync(join(dir, 'run.yaml'), `
run: { id: ${runId}, seed: 5, out_dir: out }
model: { preset: demo, tokenizer: char }
engine: { threads: 1 }
datasets:
  arith: { path: math.jsonl, domain: math, prompt_template: "q:{problem}=" }
algorithm: { mode: ${mode}${mode === 'async' ? `, max_staleness: ${k}` : ''} }
optimizer: { lr: 0.001, weight_decay: 0 }
stages:
  - { name: bench, dataset: arith, steps: ${steps}, batch_prompts: 8, group_size: 4, max_response_tokens: 48, temperature: 1.0, zero_variance_filter: false }
checkpoint: { every_steps: 1000 }
cluster: { grpc_bind: "127.0.0.1:0", ack_wait: 10s, step_timeout: 5m }
`);
    await using cluster = new LocalCluster({ configPath: join(dir, 'run.yaml'), runId, actors: 2, verifiers: 1, logDir: join(dir, 'logs'), verifierArgs: ['--domain', 'math'] });
    await cluster.start();
    const code = await cluster.waitForLearner();
    if (code !== 0) throw new Error(`bench loop (${mode} k=${k}): learner exited with ${code}; see ${join(dir, 'logs', 'learner.log')}`);
    const metricsFile = join(dir, 'out', 'metrics.jsonl');
    const lines = parseJsonl(readFileSync(metricsFile, 'utf8'), metricsFile).map((r) => r.value as Line);
    // Steady state: from the end of the first step to the end of the last.
    const first = lines[0] as Line;
    const last = lines[lines.length - 1] as Line;
    const stepsPerMin = ((lines.length - 1) / Math.max(1e-9, (last.time_ms - first.time_ms) / 1000)) * 60;
    return { stepsPerMin, lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchLoop(opts: BenchOptions = {}): Promise<BenchReport> {
  const steps = opts.quick ? 4 : 12;
  const sync = await runMode('sync', 0, steps);
  const k1 = await runMode('async', 1, steps);
  const k2 = opts.quick ? undefined : await runMode('async', 2, steps);
  const split = (ls: Line[]) => ({
    step_s: median(ls.map((l) => l.step_s)),
    wait_rollouts_s: median(ls.map((l) => l.wait_rollouts_s)),
    verify_s: median(ls.map((l) => l.verify_s)),
    train_s: median(ls.map((l) => l.train_s)),
    publish_s: median(ls.map((l) => l.publish_s)),
  });
  const waiting = sync.lines.reduce((a, l) => a + l.wait_rollouts_s, 0) / sync.lines.reduce((a, l) => a + l.step_s, 0);
  const { benchWeightSync } = await import('@acereason/learner');
  const ws = await benchWeightSync({ quick: opts.quick === true });
  const ratios: Record<string, number> = {
    async_k1_vs_sync: k1.stepsPerMin / sync.stepsPerMin,
    ...(k2 ? { async_k2_vs_sync: k2.stepsPerMin / sync.stepsPerMin } : {}),
    ...ws.ratios,
  };
  return {
    suite: 'loop',
    host: benchHost(),
    config: { model: 'demo (2 layers, d=64)', actors: 2, verifiers: 1, batch_prompts: 8, group_size: 4, max_response_tokens: 48, steps },
    sync: { steps_per_min: sync.stepsPerMin, step_split_median_s: split(sync.lines), learner_waiting_fraction: waiting },
    async_k1: { steps_per_min: k1.stepsPerMin, step_split_median_s: split(k1.lines), staleness_max: Math.max(...k1.lines.map((l) => l.staleness_max)) },
    ...(k2 ? { async_k2: { steps_per_min: k2.stepsPerMin, step_split_median_s: split(k2.lines), staleness_max: Math.max(...k2.lines.map((l) => l.staleness_max)) } } : { async_k2: 'skipped in --quick' }),
    weight_sync: ws.figures,
    ratios,
  };
}
