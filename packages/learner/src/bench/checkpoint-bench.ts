/**
 * `acereason bench checkpoint`: the learner's checkpoint write as it is now (async file I/O in
 * bounded chunks, saveCheckpoint) against the write before it (the same files through the
 * policy's synchronous writers), on the tensors of a Qwen3-0.6B-shaped model of N layers with its
 * AdamW moments (weights + m + v, fp32). Per write: the longest event-loop stall during it
 * (perf_hooks monitorEventLoopDelay: what a gRPC weight fetch, a NATS heartbeat or the control
 * API waited at worst) and the write throughput. The sides alternate round by round; every file
 * is fsynced, so the figures include the disk.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { benchHost, MIN_ROUNDS, pairFigures, spread, type BenchReport, toPlaces } from '@acereason/protocol';
import { hfPreset, modelConfigFromHf, paramSpecs, writeFolderAtomically, writeSafetensorsShards, writeSynced, type NamedTensor } from '@acereason/policy';
import { folderBytes, saveCheckpoint, type CheckpointContents, type LearnerState } from '../checkpoint/checkpoint.js';

export interface CheckpointBenchOptions {
  quick?: boolean;
  /** Layers of the Qwen3-0.6B shape (default 4: 2.6 GB written per checkpoint). */
  layers?: number;
  rounds?: number;
}

const state = (step: number): LearnerState => ({ runId: 'bench', step, version: step, weightsSha256: '', stageIndex: 0, stageStep: step, cursors: {}, pending: [], consumedGroups: 0, rejectedGroups: 0, createdAtMs: Date.now() });

/** Cheap deterministic values (a hash of the index), distinct per tensor. */
function filled(n: number, salt: number): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (((Math.imul(i ^ salt, 2654435761) >>> 0) / 2 ** 32) - 0.5) * 0.04;
  return d;
}

function benchContents(layers: number, quick: boolean): CheckpointContents {
  const hfConfig = hfPreset('Qwen3-0.6B', { num_hidden_layers: layers, ...(quick ? { vocab_size: 8192 } : {}) });
  const specs = paramSpecs(modelConfigFromHf(hfConfig));
  const weights: NamedTensor[] = specs.map((s, k) => ({ name: s.name, dtype: 'F32', shape: [...s.shape], data: filled(s.shape.reduce((a, b) => a * b, 1), k) }));
  const moments = [...weights].sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap((w, k) => (['m', 'v'] as const).map((p, j): NamedTensor => ({ name: `${p}.${w.name}`, dtype: 'F32', shape: [w.data.length], data: filled(w.data.length, 1000 + 2 * k + j) })));
  return { state: state(1), weights, optimizer: { step: 1, tensors: moments }, hfConfig };
}

/** The learner's checkpoint write before it was made asynchronous: the same files, synchronous writers. */
function saveCheckpointSync(root: string, c: CheckpointContents, keep: number): string {
  mkdirSync(root, { recursive: true });
  const final = join(root, `step-${String(c.state.step).padStart(7, '0')}`);
  writeFolderAtomically(final, (tmp) => {
    writeSafetensorsShards(tmp, c.weights, { metadata: { acereason_step: String(c.state.step) } });
    writeSafetensorsShards(tmp, c.optimizer.tensors, { prefix: 'optimizer', metadata: { format: 'acereason-adamw-1', step: String(c.optimizer.step) } });
    writeSynced(join(tmp, 'config.json'), JSON.stringify(c.hfConfig, null, 2) + '\n');
    writeSynced(join(tmp, 'state.json'), JSON.stringify(c.state, null, 2));
  }, true);
  const latestTmp = join(root, `latest.tmp-${process.pid}`);
  writeSynced(latestTmp, final.slice(root.length + 1));
  renameSync(latestTmp, join(root, 'latest'));
  const all = readdirSync(root).filter((n) => /^step-\d+$/.test(n)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(join(root, old), { recursive: true, force: true });
  return final;
}

type Figures = 'max_stall_ms' | 'p99_stall_ms' | 'mb_per_s';
const round3 = (x: number): number => toPlaces(x, 3);

/** One write, timed, with the event loop's delay histogram running through it (10 ms resolution). */
async function measure(write: () => Promise<string> | string, root: string, bytes: { n: number }): Promise<Record<Figures, number>> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  // The histogram records the gap between two firings of its timer (a reset forgets the last
  // one): it must have fired before the write, or a stall from the start is not seen.
  await new Promise((resolve) => setTimeout(resolve, 30));
  const t0 = performance.now();
  const dir = await write();
  const s = (performance.now() - t0) / 1000;
  // Lets the sampling timer fire once more: a stall that lasted to the end is recorded.
  await new Promise((resolve) => setTimeout(resolve, 30));
  h.disable();
  bytes.n = folderBytes(dir);
  rmSync(root, { recursive: true, force: true });
  return { max_stall_ms: round3(h.max / 1e6), p99_stall_ms: round3(h.percentile(99) / 1e6), mb_per_s: round3(bytes.n / 2 ** 20 / s) };
}

async function idleStall(): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  await new Promise((resolve) => setTimeout(resolve, 500));
  h.disable();
  return round3(h.max / 1e6);
}

export async function benchCheckpoint(o: CheckpointBenchOptions = {}): Promise<BenchReport> {
  const quick = o.quick === true;
  const layers = o.layers ?? (quick ? 1 : 4);
  const rounds = o.rounds ?? (quick ? 2 : MIN_ROUNDS);
  const host = benchHost();
  const c = benchContents(layers, quick);
  const base = join(tmpdir(), `acereason-bench-ckpt-${process.pid}`);
  const bytes = { n: 0 };
  try {
    const sides = {
      ours: (k: number) => measure(() => saveCheckpoint(join(base, `ours-${k}`), { ...c, state: state(k + 1) }, 1), join(base, `ours-${k}`), bytes),
      baseline: (k: number) => measure(() => saveCheckpointSync(join(base, `sync-${k}`), { ...c, state: state(k + 1) }, 1), join(base, `sync-${k}`), bytes),
    };
    const measured: { ours: Record<Figures, number>; baseline: Record<Figures, number> }[] = [];
    const idle: number[] = [];
    // The side that writes first alternates round by round: the first write of a round may find the disk busier (the previous round's files being dropped).
    for (let k = 0; k < rounds; k++) {
      const first = k % 2 === 0 ? 'ours' : 'baseline';
      const a = await sides[first](k);
      const b = await sides[first === 'ours' ? 'baseline' : 'ours'](k);
      measured.push(first === 'ours' ? { ours: a, baseline: b } : { ours: b, baseline: a });
      idle.push(await idleStall());
    }
    const r = pairFigures<Figures>({ max_stall_ms: 'lower', p99_stall_ms: 'lower', mb_per_s: 'higher' }, measured);
    return {
      suite: 'checkpoint', host,
      shape: { model: 'Qwen3-0.6B', layers, vocab: c.hfConfig.vocab_size, parameters: c.weights.reduce((a, t) => a + (t.data as Float32Array).length, 0) },
      bytes_per_checkpoint: bytes.n,
      ours: 'saveCheckpoint: async FileHandle writes of 64 MiB, fsync, atomic rename',
      baseline: 'the same files through the synchronous writers (the learner before)',
      rounds: r.rounds, order: 'alternating, the side that writes first swapped each round',
      figures: r.figures,
      // The same histogram over half a second of doing nothing, once per round: the machine's noise floor.
      idle_max_stall_ms: spread(idle),
      ratios: { checkpoint_max_event_loop_stall: round3(r.ratios.max_stall_ms), checkpoint_p99_event_loop_stall: round3(r.ratios.p99_stall_ms), checkpoint_write_throughput: round3(r.ratios.mb_per_s) },
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
