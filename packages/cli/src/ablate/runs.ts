/**
 * The runs of an ablation, interleaved so machine load hits every arm alike: seed by seed, and
 * within a seed finding by finding and arm by arm. Arms of a paired finding (before/after in one
 * run) share one run per seed.
 */
import type { ArmSpec, FindingSpec, RawStage, Sizing } from './findings.js';

export interface PlannedRun {
  finding: string;
  /** The arm whose stages this run uses (for a paired finding, every arm reads it). */
  arm: string;
  /** Indices of the arms that read their metric from this run. */
  arms: number[];
  seed: number;
  /** Folder under --out. */
  dir: string;
}

export function planRuns(findings: readonly FindingSpec[], seeds: readonly number[]): PlannedRun[] {
  const out: PlannedRun[] = [];
  for (const seed of seeds) {
    for (const f of findings) {
      const groups = f.paired ? [{ arm: f.arms[0]?.name ?? '', arms: f.arms.map((_, i) => i) }] : f.arms.map((a, i) => ({ arm: a.name, arms: [i] }));
      for (const g of groups) out.push({ finding: f.name, arm: g.arm, arms: g.arms, seed, dir: `${f.name}/${g.arm}/seed-${seed}` });
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
