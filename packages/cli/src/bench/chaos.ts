/**
 * `acereason bench chaos`: a run under faults against the same run without them. During the
 * chaos run an actor or a verifier is killed with SIGKILL every few seconds (and replaced), the
 * NATS server is killed and restarted once on the same store (with `natsCluster: 3`, the leader of
 * the SCORED stream, and in the long mode a second node, each down for a while: chaos-nats.ts), and
 * the learner is killed after a checkpoint and restarted once. Then: every step consumed exactly one scored group per prompt,
 * nothing was lost or counted twice (checked against the learner's own records: its state, its
 * per-step metrics and the pass-rate table's per-step records; the streams cannot tell, a group
 * leaves SCORED once the learner has acked it), and the rewards per step equal the fault-free run's. Both runs
 * are watched (chaos-watch.ts): no step completed for `stallSeconds`, or a service that died on
 * its own, fails the benchmark with what was pending instead of waiting on.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { benchHost, parseJsonl, Streams, type BenchOptions, type BenchReport } from '@acereason/protocol';
import { connectNats, drainQuietly, ensureTopology } from '@acereason/transport';
import { PassRateTable, type StepMetrics } from '@acereason/learner';
import { LocalCluster } from '../local/cluster.js';
import { injectNatsFaults } from './chaos-nats.js';
import { ChaosWatch } from './chaos-watch.js';
import { smallSums, warmStartWeights, WARM_PROMPT_TEMPLATE } from '../local/warm-start.js';

type StepLine = Pick<StepMetrics, 'step' | 'reward_mean' | 'groups'>;

export interface ChaosOptions extends BenchOptions {
  steps?: number;
  /** Seconds between worker kills. */
  killEverySeconds?: number;
  seed?: number;
  /** Run both runs on this many clustered nats-servers (3) instead of one. */
  natsCluster?: number;
  /** Fail (saying what was pending) when no step completes for this long. Default 150 s. */
  stallSeconds?: number;
}

const BATCH = 4;
const GROUP = 4;

/** The run file of both runs (in `dir`, next to `../math.jsonl` and `../init.safetensors`). */
export function chaosRunFile(dir: string, runId: string, steps: number): string {
  const path = join(dir, 'run.yaml');
  writeFileSync(path, `
run: { id: ${runId}, seed: 3, out_dir: out }
model: { preset: demo, init: ../init.safetensors, tokenizer: char }
engine: { threads: 1 }
datasets:
  arith: { path: ../math.jsonl, domain: math, prompt_template: "${WARM_PROMPT_TEMPLATE}" }
optimizer: { lr: 0.002, weight_decay: 0 }
stages:
  - { name: chaos, dataset: arith, steps: ${steps}, batch_prompts: ${BATCH}, group_size: ${GROUP}, max_response_tokens: 12, temperature: 1.0 }
checkpoint: { every_steps: 2 }
cluster: { grpc_bind: "127.0.0.1:0", ack_wait: 3s, step_timeout: 60s }
`);
  return path;
}

function finalPerStep(outDir: string): Map<number, StepLine> {
  const m = new Map<number, StepLine>();
  const p = join(outDir, 'metrics.jsonl');
  if (!existsSync(p)) return m;
  for (const { value } of parseJsonl(readFileSync(p, 'utf8'), p)) {
    const s = value as StepLine;
    m.set(s.step, s);
  }
  return m;
}

/** Step completions: metrics lines written (a step redone after the learner's restart counts again). */
function completions(outDir: string): number {
  const p = join(outDir, 'metrics.jsonl');
  return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter((l) => l.trim() !== '').length : 0;
}

export async function benchChaos(opts: ChaosOptions = {}): Promise<BenchReport> {
  const steps = opts.steps ?? (opts.quick ? 6 : 16);
  const killEvery = (opts.killEverySeconds ?? 2.5) * 1000;
  const stallMs = (opts.stallSeconds ?? 150) * 1000;
  let rng = (opts.seed ?? 42) >>> 0 || 1;
  const rand = (n: number): number => {
    rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
    return rng % n;
  };
  const root = mkdtempSync(join(tmpdir(), 'acereason-chaos-'));
  try {
    writeFileSync(join(root, 'math.jsonl'), smallSums(40).map((p) => JSON.stringify(p)).join('\n') + '\n');
    writeFileSync(join(root, 'init.safetensors'), await warmStartWeights());

    // 1. The fault-free reference.
    const refDir = join(root, 'reference');
    mkdirSync(refDir);
    {
      await using ref = new LocalCluster({ configPath: chaosRunFile(refDir, 'chaosref', steps), runId: 'chaosref', natsNodes: opts.natsCluster ?? 1, actors: 2, verifiers: 2, logDir: join(refDir, 'logs'), verifierArgs: ['--domain', 'math', '--ack-wait-ms', '3000'], actorArgs: ['--ack-wait-ms', '3000'] });
      await ref.start();
      const refWatch = new ChaosWatch({ cluster: ref, progress: () => completions(join(refDir, 'out')), stallMs });
      const code = await refWatch.learnerExit();
      if (code !== 0) throw await refWatch.failure(`the reference run's learner exited with ${code}`);
    }
    const reference = finalPerStep(join(refDir, 'out'));

    // 2. The same run under faults.
    const dir = join(root, 'chaos');
    mkdirSync(dir);
    const faults = { worker_kills: 0, nats_restarts: 0, nats_nodes_killed: 0, learner_kills: 0 };
    let killedNodes: string[] = [];
    await using cluster = new LocalCluster({ configPath: chaosRunFile(dir, 'chaos', steps), runId: 'chaos', natsNodes: opts.natsCluster ?? 1, actors: 2, verifiers: 2, logDir: join(dir, 'logs'), verifierArgs: ['--domain', 'math', '--ack-wait-ms', '3000'], actorArgs: ['--ack-wait-ms', '3000'] });
    await cluster.start();
    const progress = (): number => finalPerStep(join(dir, 'out')).size;
    const watch = new ChaosWatch({ cluster, progress: () => completions(join(dir, 'out')), stallMs });
    let learnerDone = false;
    let spawned = 0;
    const killer = (async () => {
      while (!learnerDone) {
        await new Promise((r) => setTimeout(r, killEvery));
        if (learnerDone) break;
        const pool = [...cluster.actors.filter((c) => c.running).map((c) => ['actor', c] as const), ...cluster.verifiers.filter((c) => c.running).map((c) => ['verifier', c] as const)];
        const pick = pool[rand(pool.length)];
        if (!pick) continue;
        await watch.kill(pick[1]);
        faults.worker_kills++;
        spawned++;
        if (pick[0] === 'actor') cluster.addActor(`actor-r${spawned}`);
        else cluster.addVerifier(`verifier-r${spawned}`);
      }
    })();
    let code: number;
    try {
      // NATS: killed and restarted on the same store once the run is under way (a cluster: its nodes, one at a time).
      await watch.until(() => progress() >= 1, 'waiting for the first step');
      const natsFaults = await injectNatsFaults(cluster, { long: !opts.quick, downMs: opts.quick ? 3000 : 6000 });
      faults.nats_restarts += natsFaults.nats_restarts;
      faults.nats_nodes_killed += natsFaults.nats_nodes_killed;
      killedNodes = natsFaults.nats_killed_nodes;
      // The learner: killed after a checkpoint (step 2 written means steps 0-1 are checkpointed), restarted.
      await watch.until(() => progress() >= Math.min(steps - 1, 3), 'waiting for step 3 (the learner is killed after it)');
      if (cluster.learner) await watch.kill(cluster.learner);
      faults.learner_kills++;
      cluster.startLearner('learner-2');
      code = await watch.learnerExit();
    } finally {
      learnerDone = true;
      await killer;
    }
    if (code !== 0) throw await watch.failure(`the restarted learner exited with ${code}`);

    // 3. The checks.
    const chaos = finalPerStep(join(dir, 'out'));
    const state = JSON.parse(readFileSync(join(dir, 'out', 'checkpoints', `step-${String(steps).padStart(7, '0')}`, 'state.json'), 'utf8')) as { consumedGroups: number };
    const expected = steps * BATCH;
    const perStep = [...chaos.values()].map((s) => s.groups);
    const nc = await connectNats({ servers: cluster.natsUrl, name: 'chaos-check' });
    let tableAttempts = 0;
    let recordedPrompts = 0;
    let scoredLeft = 0;
    try {
      const topo = await ensureTopology(nc);
      const rates = await new PassRateTable(topo.passRates).loadAll('arith', smallSums(40).map((p) => p.id));
      const records = [...rates.values()].flatMap((r) => r.records.filter((x) => x.stage === 'chaos').map((x) => ({ ...x, promptId: r.promptId })));
      tableAttempts = records.reduce((a, r) => a + r.attempts, 0);
      // The learner writes one record per (step, prompt) it trained on; a replayed step replaces its own.
      recordedPrompts = new Set(records.map((r) => `${r.step}.${r.promptId}`)).size;
      // Groups nobody consumed (late copies of re-issued tasks after the run ended); consumed ones were removed on ack.
      scoredLeft = (await jetstreamManager(nc).then((jsm) => jsm.streams.info(Streams.SCORED))).state.messages;
    } finally {
      await drainQuietly(nc);
    }
    const rewardsRef = [...reference.keys()].sort((a, b) => a - b).map((k) => reference.get(k)?.reward_mean);
    const rewardsChaos = [...chaos.keys()].sort((a, b) => a - b).map((k) => chaos.get(k)?.reward_mean);
    const lost = Math.max(0, expected - state.consumedGroups) + perStep.filter((g) => g < BATCH).length + Math.max(0, expected - recordedPrompts);
    const duplicated = Math.max(0, state.consumedGroups - expected) + perStep.filter((g) => g > BATCH).length + Math.max(0, tableAttempts / GROUP - expected);
    return {
      suite: 'chaos',
      host: benchHost(),
      steps,
      nats_nodes: opts.natsCluster ?? 1,
      // A restarted single server counts once; a cluster's node counts when it is killed.
      faults_injected: faults.worker_kills + (cluster.natsCluster ? faults.nats_nodes_killed : faults.nats_restarts) + faults.learner_kills,
      faults,
      nats_killed_nodes: killedNodes,
      groups_expected: expected,
      groups_consumed: state.consumedGroups,
      scored_prompts_recorded: recordedPrompts,
      scored_left_in_stream: scoredLeft,
      pass_rate_attempts: tableAttempts,
      lost,
      duplicated,
      rewards_match: JSON.stringify(rewardsRef) === JSON.stringify(rewardsChaos),
      rewards_reference: rewardsRef,
      rewards_chaos: rewardsChaos,
      ratios: { consumed_vs_expected: state.consumedGroups / expected },
    };
  } finally {
    if (process.env.ACEREASON_KEEP_CHAOS !== '1') rmSync(root, { recursive: true, force: true });
  }
}
