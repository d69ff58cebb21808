/**
 * One run of the demo recipe (or an edit of it) on a local cluster of processes: the demo's data
 * splits and run.yaml in `out`, then nats-server, the learner, 2 actors and 2 verifiers (both
 * domains) until the learner exits. `acereason demo` and each arm of `acereason ablate` run here.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { compileRunDocument, loadRecipe, type RunConfig } from '@acereason/learner';

/** A stage of the demo recipe as written in its YAML (what `--quick` and the ablation arms edit). */
export interface RawStage { name: string; dataset?: string; steps: number; [k: string]: unknown }

/** The shipped demo recipe's stages, as written. */
export function demoRecipeStages(): RawStage[] {
  return (loadRecipe('demo') as { stages: RawStage[] }).stages;
}

/** The run as the learner will run it: `run` (which builds on the demo recipe) compiled the learner's way, paths under `out`. */
export function compileDemoRun(run: Record<string, unknown>, out: string): RunConfig {
  return compileRunDocument(structuredClone(run), out);
}

export interface DemoRunOptions {
  /** The run folder: data splits, run.yaml, metrics.jsonl, evals.jsonl, logs/. */
  out: string;
  /** The run config (YAML object) written to run.yaml; its out_dir must be '.'. */
  run: Record<string, unknown>;
  /** The first line of run.yaml, a comment naming what wrote it. */
  header: string;
  /** The seed of the data splits (the demo's is 1). */
  dataSeed?: number;
  /** Called once the data splits are written, before run.yaml and the cluster (e.g. to derive a file from them). */
  prepare?: () => void;
  /** Called every 500 ms while the run goes, and once at the end. */
  onTick?: () => void;
  /** Called once the cluster is up, before the learner's first step. */
  onStarted?: () => void;
}

/** Runs it; resolves with the learner's exit code. Ctrl-C stops the services too (they are children of this process). */
export async function runDemoCluster(o: DemoRunOptions): Promise<number> {
  const { writeDemoSplits } = await import('@acereason/curate');
  writeDemoSplits({ outDir: o.out, seed: o.dataSeed ?? 1 });
  o.prepare?.();
  writeFileSync(join(o.out, 'run.yaml'), `# ${o.header}\n` + stringifyYaml(o.run));
  const { LocalCluster } = await import('./cluster.js');
  const runId = String((o.run.run as { id?: unknown } | undefined)?.id ?? 'demo');
  await using cluster = new LocalCluster({
    configPath: join(o.out, 'run.yaml'), runId, actors: 2, verifiers: 2, logDir: join(o.out, 'logs'),
    verifierArgs: ['--domain', 'all'], learnerArgs: ['--fresh'],
  });
  await cluster.start();
  o.onStarted?.();
  const tick = o.onTick ?? ((): void => undefined);
  const timer = setInterval(tick, 500);
  const onSignal = (): void => {
    clearInterval(timer);
    void cluster.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await cluster.waitForLearner();
  } finally {
    clearInterval(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    tick();
  }
}
