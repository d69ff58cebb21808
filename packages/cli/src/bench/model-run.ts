/**
 * `acereason bench model-run`: the whole loop on a Hugging Face model directory, by default
 * Qwen3-0.6B at full size (random bf16 weights in ~2 shards, the real Qwen3 tokenizer and chat
 * template): nats-server, the learner, an actor and a verifier as processes; 2 steps with a
 * checkpoint after each; the learner killed with SIGKILL while it writes the second checkpoint
 * (after step 1's update), then restarted. The resumed learner must load the first checkpoint
 * exactly (its weights hash is checked against state.json), redo step 1 from the redelivered
 * groups with the same rewards, loss and gradient norm, and reach the same version-2 weights hash
 * the killed learner had announced. Figures: load time, step times, checkpoint write and read
 * time and bytes, peak RSS per process.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { benchHost, codecs, parseJsonl, Streams, Subjects, type BenchOptions, type BenchReport } from '@acereason/protocol';
import { connectNats, drainQuietly, type ChildHandle } from '@acereason/transport';
import type { StepMetrics } from '@acereason/learner';
import { LocalCluster } from '../local/cluster.js';
import { PeakRss } from './peak-rss.js';
import { BATCH, benchModelConfig, GROUP, parameterCount, RUN_ID, STEPS, writeBenchModel, writeBenchRun } from './model-run-files.js';

export interface ModelRunOptions extends BenchOptions {
  /** Qwen3-0.6B with this many layers instead of 28 (width, vocabulary and the rest unchanged). */
  layers?: number;
  /** The user's own model directory instead of the random-weight one. */
  model?: string;
  /** Milliseconds the whole run may take (default 45 min; quick: 5 min). */
  timeoutMs?: number;
}

/** Fields of a step's metrics that a replayed step must reproduce exactly (the rest are clocks). */
const REPLAYED = ['policy_version', 'groups', 'groups_used', 'reward_mean', 'accuracy', 'response_len_mean', 'truncation_rate', 'entropy_mean', 'loss', 'grad_norm', 'clip_fraction', 'learning_rate', 'train_tokens'] as const;

type LogLine = Record<string, unknown> & { msg?: string };

function logLines(output: string, msg: string): LogLine[] {
  return output.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as LogLine);
}

const ckptName = (step: number): string => `step-${String(step).padStart(7, '0')}`;
const folderBytes = (dir: string): number => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

async function until<T>(what: string, deadline: number, probe: () => T | undefined): Promise<T> {
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`bench model-run: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function announcedVersions(natsUrl: string): Promise<{ version: number; sha256: string }[]> {
  const nc = await connectNats({ servers: natsUrl, name: 'bench-model-run' });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(Streams.EVENTS);
    const out: { version: number; sha256: string }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(Streams.EVENTS, { seq }).catch(() => null);
      if (m?.subject !== Subjects.weights(RUN_ID)) continue;
      const a = codecs.WeightsAnnounced.decode(m.data);
      out.push({ version: a.version, sha256: a.weightsSha256 });
    }
    return out;
  } finally {
    await drainQuietly(nc);
  }
}

/** A promise that rejects when one of `services` exits, until `stop()` (the bench's own shutdown). */
function servicesDied(services: [string, ChildHandle | undefined][]): { promise: Promise<never>; stop: () => void } {
  let stopped = false;
  let fail: (err: Error) => void = () => undefined;
  const promise = new Promise<never>((_, reject) => (fail = reject));
  promise.catch(() => undefined);
  for (const [role, c] of services) {
    void c?.exited.then(() => {
      if (!stopped) fail(new Error(`bench model-run: the ${role} (${c.settings.name}) ${c.exitDescription} during the run; the end of its output:\n${c.output.slice(-2000)}`));
    });
  }
  return { promise, stop: () => (stopped = true) };
}

export async function benchModelRun(o: ModelRunOptions = {}): Promise<BenchReport> {
  const quick = o.quick === true;
  const host = benchHost();
  const root = mkdtempSync(join(tmpdir(), 'acereason-model-run-'));
  const rss = new PeakRss();
  const started = performance.now();
  const deadline = Date.now() + (o.timeoutMs ?? (quick ? 5 : 45) * 60_000);
  const seconds = (from: number): number => +((performance.now() - from) / 1000).toFixed(3);
  try {
    let modelDir: string;
    let hfConfig: Record<string, unknown>;
    let writeRandomS: number | null = null;
    if (o.model !== undefined) {
      modelDir = resolve(o.model);
      hfConfig = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    } else {
      hfConfig = benchModelConfig({ quick, ...(o.layers !== undefined ? { layers: o.layers } : {}) });
      modelDir = join(root, 'Qwen3-0.6B');
      writeRandomS = writeBenchModel(modelDir, hfConfig);
    }
    const shards = readdirSync(modelDir).filter((n) => n.endsWith('.safetensors')).length;
    const cfg = writeBenchRun(root, modelDir, { ackWait: quick ? '5s' : '30s' });
    const ckpts = join(root, 'out', 'checkpoints');

    await using cluster = new LocalCluster({ configPath: cfg, runId: RUN_ID, actors: 1, verifiers: 1, logDir: join(root, 'logs'), verifierArgs: ['--domain', 'math'] });
    // Stopped from outside (a timeout, Ctrl-C): the services go with it (they run in their own process groups).
    const onSignal = (): void => void cluster.stop().finally(() => process.exit(130));
    process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
    const t0 = performance.now();
    await cluster.start();
    const first = cluster.learner as ChildHandle;
    rss.watch('learner', () => first.pid);
    rss.watch('actor', () => cluster.actors[0]?.pid ?? -1);
    rss.watch('verifier', () => cluster.verifiers[0]?.pid ?? -1);
    // A service that dies (an out-of-memory kill, a crash) fails the bench at once, saying how it ended.
    const died = servicesDied([['actor', cluster.actors[0]], ['verifier', cluster.verifiers[0]]]);
    const wait = (c: ChildHandle, re: RegExp): Promise<RegExpMatchArray> => Promise.race([c.waitForOutput(re, Math.max(1000, deadline - Date.now())), died.promise]);

    await wait(first, /"msg":"learner ready"/);
    const learnerReadyS = seconds(t0);
    await wait(first, /"step":0,[^\n]*"msg":"step done"/);
    await wait(first, /"step":1,[^\n]*"msg":"checkpoint written"/);
    const state1 = JSON.parse(readFileSync(join(ckpts, ckptName(1), 'state.json'), 'utf8')) as { weightsSha256: string; version: number };
    await wait(first, /"step":1,[^\n]*"msg":"step done"/);
    // Step 1 is trained and version 2 announced; kill the learner once it is writing the checkpoint that would cover it.
    const partial = await until('the second checkpoint to start', deadline, () => (first.running ? readdirSync(ckpts).find((n) => n.startsWith(`.${ckptName(2)}.partial-`)) : '') );
    if (partial) await until('the second checkpoint to have bytes on disk', deadline, () => (!first.running || folderBytes(join(ckpts, partial)) > 0 ? true : undefined));
    const duringWrite = partial !== '' && first.running && !existsSync(join(ckpts, ckptName(2)));
    const partialBytes = partial && existsSync(join(ckpts, partial)) ? folderBytes(join(ckpts, partial)) : 0;
    await first.kill('SIGKILL');
    const latestAfterKill = readFileSync(join(ckpts, 'latest'), 'utf8').trim();
    const firstOutput = first.output;

    const t1 = performance.now();
    const second = cluster.startLearner('learner-resumed');
    rss.watch('learner_resumed', () => second.pid);
    await wait(second, /"msg":"learner ready"/);
    const resumedReadyS = seconds(t1);
    const code = await Promise.race([cluster.waitForLearner(), died.promise]);
    const resumeTotalS = seconds(t1);
    died.stop();
    if (code !== 0) throw new Error(`bench model-run: the resumed learner ${second.exitDescription}; ${second.output.slice(-3000)}`);
    const announced = await announcedVersions(cluster.natsUrl);
    const peaks = rss.report();
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);

    // The checks, from the files and the streams.
    const metrics = parseJsonl(readFileSync(join(root, 'out', 'metrics.jsonl'), 'utf8'), 'metrics.jsonl').map((r) => r.value as StepMetrics);
    const step1 = metrics.filter((m) => m.step === 1);
    const [s1First, s1Resumed] = [step1[0], step1[step1.length - 1]];
    const replayDiffs = step1.length === 2 ? REPLAYED.filter((k) => s1First?.[k] !== s1Resumed?.[k]) : ['step 1 was recorded ' + step1.length + ' times, not twice'];
    // Each learner logs the hash of the version it starts from and of each version it trains (the
    // stream holds the killed learner's announcements; the resumed one's identical ones are deduplicated).
    const started2 = logLines(second.output, 'learner started')[0];
    const stepDone = (out: string): LogLine | undefined => logLines(out, 'step done').find((l) => l.step === 1);
    const v1 = { checkpoint: state1.weightsSha256, announced: announced.find((a) => a.version === 1)?.sha256, resumed: started2?.weightsSha256 };
    const v2 = { killed: stepDone(firstOutput)?.weightsSha256, announced: announced.find((a) => a.version === 2)?.sha256, resumed: stepDone(second.output)?.weightsSha256 };
    const finalState = JSON.parse(readFileSync(join(ckpts, ckptName(STEPS), 'state.json'), 'utf8')) as { step: number; version: number; weightsSha256: string; consumedGroups: number };
    const leftovers = readdirSync(ckpts).filter((n) => n.startsWith('.'));
    const loaded = logLines(second.output, 'checkpoint loaded')[0];
    const writes = [...logLines(firstOutput, 'checkpoint written'), ...logLines(second.output, 'checkpoint written')].map((l) => {
      const bytes = Number(l.bytes);
      const s = Number(l.seconds);
      return { step: Number(l.step), bytes, seconds: s, mb_s: +(bytes / 2 ** 20 / s).toFixed(1) };
    });
    const readBytes = writes[0]?.bytes ?? 0;
    const readS = Number(loaded?.readSeconds ?? NaN);
    const checks = {
      killed_during_checkpoint_write: duringWrite,
      latest_after_kill: latestAfterKill,
      resumed_from_step: Number(loaded?.step ?? NaN),
      resumed_weights_sha256_is_checkpoints: v1.resumed !== undefined && v1.resumed === v1.checkpoint && v1.announced === v1.checkpoint,
      step1_replayed_identically: replayDiffs.length === 0,
      step1_fields_differing: replayDiffs,
      version2_sha256_same_as_killed_learners: v2.killed !== undefined && v2.killed === v2.announced && v2.resumed === v2.killed && finalState.weightsSha256 === v2.killed,
      consumed_groups: finalState.consumedGroups,
      consumed_groups_expected: STEPS * BATCH,
      partial_folders_left: leftovers,
    };
    const exact = checks.killed_during_checkpoint_write && latestAfterKill === ckptName(1) && checks.resumed_from_step === 1 && checks.resumed_weights_sha256_is_checkpoints
      && checks.step1_replayed_identically && checks.version2_sha256_same_as_killed_learners && finalState.consumedGroups === STEPS * BATCH && finalState.step === STEPS && leftovers.length === 0;
    const stepS = (m: StepMetrics | undefined): Record<string, number> | null => (m ? { step_s: m.step_s, wait_rollouts_s: m.wait_rollouts_s, train_s: m.train_s, publish_s: m.publish_s } : null);
    return {
      suite: 'model-run',
      host,
      model: {
        dir: o.model === undefined ? 'random Qwen3-0.6B' : modelDir, architecture: (hfConfig.architectures as string[] | undefined)?.[0], layers: hfConfig.num_hidden_layers, hidden_size: hfConfig.hidden_size,
        vocab_size: hfConfig.vocab_size, parameters: parameterCount(hfConfig), dtype: hfConfig.torch_dtype ?? 'bfloat16', shards, bytes: folderBytes(modelDir), write_random_seconds: writeRandomS,
      },
      run: { steps: STEPS, batch_prompts: BATCH, group_size: GROUP, max_response_tokens: 4, actors: 1, verifiers: 1, checkpoint_every_steps: 1 },
      load: { learner_ready_seconds: learnerReadyS, resumed_learner_ready_seconds: resumedReadyS, resumed_run_seconds: resumeTotalS },
      steps: { step0: stepS(metrics.find((m) => m.step === 0)), step1_first: stepS(s1First), step1_resumed: stepS(s1Resumed) },
      checkpoint: { writes, read: { bytes: readBytes, seconds: readS, mb_s: +(readBytes / 2 ** 20 / readS).toFixed(1) }, partial_bytes_at_kill: partialBytes },
      resume: { exact, ...checks, weights_sha256: { version1: v1, version2: v2 } },
      peak_rss_mb: peaks,
      total_seconds: seconds(started),
      ratios: {},
    };
  } finally {
    rss.stop();
    if (process.env.ACEREASON_KEEP_BENCH !== '1') rmSync(root, { recursive: true, force: true });
  }
}
