/**
 * The runs of an ablation, interleaved so machine load hits every arm alike: seed by seed, and
 * within a seed finding by finding and arm by arm. Arms whose run files are the same (the demo
 * recipe's baseline: the short-first curriculum, the filtered stage, one update per batch, the
 * math-then-code run read before and after) share one run per seed: a seeded run gives the same
 * numbers however often it is repeated, so a second copy would only cost time.
 */
import type { ArmSpec, FindingSpec, RawStage, Sizing } from './findings.js';

/** An arm of a finding that reads its metric from a run. */
export interface Reader { finding: string; arm: number }

export interface PlannedRun {
  seed: number;
  /** The run file (a YAML object). */
  run: Record<string, unknown>;
  /** Every (finding, arm) whose metric this run gives, in plan order. */
  readers: Reader[];
  /** Folder under --out: the first reader's `finding/arm/seed-N`. */
  dir: string;
}

export function planRuns(findings: readonly FindingSpec[], seeds: readonly number[], runFile: (arm: ArmSpec, seed: number) => Record<string, unknown>): PlannedRun[] {
  const out: PlannedRun[] = [];
  for (const seed of seeds) {
    const byFile = new Map<string, PlannedRun>();
    for (const f of findings) {
      f.arms.forEach((a, i) => {
        const run = runFile(a, seed);
        const key = JSON.stringify(run);
        const known = byFile.get(key);
        if (known) {
          known.readers.push({ finding: f.name, arm: i });
          return;
        }
        const p: PlannedRun = { seed, run, readers: [{ finding: f.name, arm: i }], dir: `${f.name}/${a.name}/seed-${seed}` };
        byFile.set(key, p);
        out.push(p);
      });
    }
  }
  return out;
}

/** The run file (as a YAML object) of one arm's run: the demo recipe with the arm's stages, algorithm edits and evals. */
export function armRunFile(arm: ArmSpec, demo: readonly RawStage[], sizing: Sizing, seed: number, init: string): Record<string, unknown> {
  return {
    recipe: 'demo', run: { id: 'ablate', seed, out_dir: '.' }, model: { init }, stages: arm.stages(demo, sizing), checkpoint: { every_steps: 1000 },
    eval: arm.evals === false ? { at_stage_boundaries: false } : { max_prompts: sizing.evalPrompts, k: sizing.k },
    ...(arm.algorithm ? { algorithm: arm.algorithm } : {}),
  };
}
