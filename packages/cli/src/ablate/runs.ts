/**
 * The runs of an ablation, interleaved so machine load hits every arm alike: seed by seed, and
 * within a seed finding by finding and arm by arm. Arms whose run files are the same (the demo
 * recipe's baseline: the short-first curriculum, the filtered stage, one update per batch, the
 * math-then-code run read before and after) share one run per seed: a seeded run gives the same
 * numbers however often it is repeated, so a second copy would only cost time.
 */
import { firstStagePool, type ArmSpec, type FindingSpec, type RawStage, type Sizing } from './findings.js';

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
  /** Math prompts the run trains on, when pooled: the first N of the demo's math split, in poolFile(N). */
  pool?: number;
}

/** The file of a pooled run's math prompts (written next to the demo's splits). */
export const poolFile = (n: number): string => `math-train-first-${n}.jsonl`;

export function planRuns(findings: readonly FindingSpec[], seeds: readonly number[], runFile: (arm: ArmSpec, seed: number) => Record<string, unknown>, pool?: number): PlannedRun[] {
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
        const p: PlannedRun = { seed, run, readers: [{ finding: f.name, arm: i }], dir: `${f.name}/${a.name}/seed-${seed}`, ...(a.pool === true && pool !== undefined ? { pool } : {}) };
        byFile.set(key, p);
        out.push(p);
      });
    }
  }
  return out;
}

/** The run file (as a YAML object) of one arm's run: the demo recipe with the arm's stages, algorithm edits, evals and (pooled) math prompts. */
export function armRunFile(arm: ArmSpec, demo: readonly RawStage[], sizing: Sizing, seed: number, init: string): Record<string, unknown> {
  const evals = arm.evals === 'none' ? { at_stage_boundaries: false }
    : arm.evals === 'math' ? { datasets: ['math_eval'], max_prompts: sizing.evalPrompts, k: sizing.k }
    : { max_prompts: sizing.evalPrompts, k: sizing.k };
  return {
    recipe: 'demo', run: { id: 'ablate', seed, out_dir: '.' }, model: { init }, stages: arm.stages(demo, sizing), checkpoint: { every_steps: 1000 }, eval: evals,
    ...(arm.pool === true ? { datasets: { math: { path: poolFile(firstStagePool(demo, sizing)) } } } : {}),
    ...(arm.algorithm ? { algorithm: arm.algorithm } : {}),
  };
}
