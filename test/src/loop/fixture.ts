/**
 * A tiny run for loop tests: the demo model warm-started by a short SFT so it answers in the
 * `\boxed{d}` format with a spread of digits (rewards vary within groups), a small arithmetic
 * dataset, a run file, and helpers that start the learner, actors and verifiers as processes.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { warmStartWeights as sharedWarmStart, smallSums, WARM_PROMPT_TEMPLATE } from '@acereason/cli';
import type { NatsConnection } from '@nats-io/nats-core';
import { spawnChild, type ChildHandle } from '@acereason/testkit';

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = {
  learner: join(root, 'packages/learner/dist/bin.js'),
  actor: join(root, 'packages/actor/dist/bin.js'),
  verifier: join(root, 'packages/verifier/dist/bin.js'),
};

export const PROMPT_TEMPLATE = WARM_PROMPT_TEMPLATE;

/** Problems `a+b` with single-digit answers, ids p0, p1, ... */
export const problems = smallSums;

/** The demo model after a short SFT on the `\boxed{d}` format (made once per test process by the cli). */
export function warmStartWeights(): Promise<Uint8Array> {
  return sharedWarmStart();
}

export interface TinyRunOptions {
  runId: string;
  steps: number;
  batchPrompts?: number;
  groupSize?: number;
  checkpointEvery?: number;
  mode?: 'sync' | 'async';
  maxStaleness?: number;
  seed?: number;
  /** Extra YAML lines appended to the stage (indented under it). */
  stageExtra?: string;
  /** Extra YAML appended to the document (more stages, an eval section ...). */
  extra?: string;
}

export async function writeTinyRun(dir: string, o: TinyRunOptions): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'math.jsonl'), problems(40).map((p) => JSON.stringify(p)).join('\n') + '\n');
  writeFileSync(join(dir, 'held.jsonl'), problems(48).slice(40).map((p) => JSON.stringify({ ...p, id: `h${p.id}` })).join('\n') + '\n');
  writeFileSync(join(dir, 'init.safetensors'), await warmStartWeights());
  const yaml = `
run:
  id: ${o.runId}
  seed: ${o.seed ?? 3}
  out_dir: out
model:
  preset: demo
  init: init.safetensors
  tokenizer: char
engine:
  threads: 1
datasets:
  arith:
    path: math.jsonl
    domain: math
    prompt_template: "${PROMPT_TEMPLATE}"
  held:
    path: held.jsonl
    domain: math
    prompt_template: "${PROMPT_TEMPLATE}"
algorithm:
  mode: ${o.mode ?? 'sync'}
${o.mode === 'async' ? `  max_staleness: ${o.maxStaleness ?? 1}\n` : ''}optimizer:
  lr: 0.002
  weight_decay: 0
stages:
  - name: math-tiny
    dataset: arith
    steps: ${o.steps}
    batch_prompts: ${o.batchPrompts ?? 4}
    group_size: ${o.groupSize ?? 4}
    max_response_tokens: 12
    temperature: 1.0
    overlong: mask
    zero_variance_filter: true
${o.stageExtra ?? ''}
${o.extra ?? ''}
checkpoint:
  every_steps: ${o.checkpointEvery ?? 2}
cluster:
  grpc_bind: 127.0.0.1:0
  ack_wait: 3s
  step_timeout: 60s
`;
  const path = join(dir, 'run.yaml');
  writeFileSync(path, yaml);
  return path;
}

export function startLearner(configPath: string, nats: string, extra: string[] = []): ChildHandle {
  return spawnChild({ name: 'learner', command: process.execPath, args: [BIN.learner, '--config', configPath, '--nats', nats, ...extra], env: { ...process.env, ACEREASON_LOG_PRETTY: '0' } });
}

export function startActor(runId: string, nats: string, id: string): ChildHandle {
  return spawnChild({ name: id, command: process.execPath, args: [BIN.actor, '--run', runId, '--nats', nats, '--id', id, '--ack-wait-ms', '3000'], env: { ...process.env, ACEREASON_LOG_PRETTY: '0' } });
}

export function startVerifier(runId: string, nats: string, id: string): ChildHandle {
  return spawnChild({ name: id, command: process.execPath, args: [BIN.verifier, '--run', runId, '--nats', nats, '--id', id, '--domain', 'math', '--ack-wait-ms', '3000'], env: { ...process.env, ACEREASON_LOG_PRETTY: '0' } });
}

export interface MetricsLine {
  step: number;
  reward_mean: number;
  accuracy: number;
  groups: number;
  policy_version: number;
  [k: string]: unknown;
}

export function readMetrics(text: string): MetricsLine[] {
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as MetricsLine);
}

/** Waits for a child to exit, failing with its output after `ms`. */
export async function exitWithin(child: ChildHandle, ms: number): Promise<{ code: number | null }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      child.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${child.settings.name} did not finish within ${ms} ms; output:\n${child.output.slice(-4000)}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every service (SIGTERM, then SIGKILL after 3 s). */
export async function stopAll(children: readonly ChildHandle[]): Promise<void> {
  await Promise.all(children.map((c) => c.stop(3000)));
}

/**
 * Every message published on `subject` while it runs, as a plain NATS subscriber sees it. The work
 * streams remove a group once it is consumed, so what a run produced is watched as it goes by,
 * not read back from the stream afterwards. Start it (awaited) before the publishers.
 */
export async function recordPublished(nc: NatsConnection, subject: string): Promise<{ messages: Uint8Array[]; stop: () => void }> {
  const messages: Uint8Array[] = [];
  const sub = nc.subscribe(subject, { callback: (err, m) => { if (!err) messages.push(m.data); } });
  await nc.flush();
  return { messages, stop: () => sub.unsubscribe() };
}
