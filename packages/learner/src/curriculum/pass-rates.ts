/**
 * The pass-rate table: per prompt, the attempts and passes of every step that sampled it, with the
 * stage and policy version. It lives in the PASS_RATES JetStream KV bucket, keyed by dataset and
 * prompt id (not by run), so it persists across stages, learner restarts and runs, and drives the
 * prompt filters between stages.
 */
import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { ScoredGroup } from '@acereason/protocol';
import { retryTransient } from '@acereason/transport';

export interface PassRecord {
  stage: string;
  /** The learner step that sampled it: a step replayed after a restart replaces its record. */
  step: number;
  version: number;
  attempts: number;
  passes: number;
}

export interface PromptPassRates {
  dataset: string;
  promptId: string;
  records: PassRecord[];
}

/** Keys allow only [-/_=.a-zA-Z0-9]: prompt ids are hashed when they contain anything else. */
export function passRateKey(dataset: string, promptId: string): string {
  const safe = (s: string): string => (/^[A-Za-z0-9_-]{1,100}$/.test(s) ? s : `h-${createHash('sha256').update(s).digest('hex').slice(0, 32)}`);
  return `${safe(dataset)}.${safe(promptId)}`;
}

/** Keeps at most this many records per prompt (the newest). */
const MAX_RECORDS = 64;

export class PassRateTable {
  private readonly cache = new Map<string, PromptPassRates>();

  constructor(private readonly kv: KV) {}

  /** What this process has read or written (no I/O): for per-prompt checks on the hot path. */
  peek(dataset: string, promptId: string): PromptPassRates | undefined {
    return this.cache.get(passRateKey(dataset, promptId));
  }

  async get(dataset: string, promptId: string): Promise<PromptPassRates | undefined> {
    const key = passRateKey(dataset, promptId);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
    const v = JSON.parse(new TextDecoder().decode(e.value)) as PromptPassRates;
    this.cache.set(key, v);
    return v;
  }

  /** Appends one record per prompt; a record for the same step replaces the old one (idempotent replays). */
  async record(dataset: string, entries: { promptId: string; record: PassRecord }[]): Promise<void> {
    await Promise.all(entries.map(async ({ promptId, record }) => {
      const cur = (await this.get(dataset, promptId)) ?? { dataset, promptId, records: [] };
      const same = cur.records.findIndex((r) => r.step === record.step && r.stage === record.stage);
      if (same >= 0) cur.records[same] = { ...record };
      else cur.records.push({ ...record });
      if (cur.records.length > MAX_RECORDS) cur.records.splice(0, cur.records.length - MAX_RECORDS);
      const key = passRateKey(dataset, promptId);
      this.cache.set(key, cur);
      await retryTransient(() => this.kv.put(key, JSON.stringify(cur)));
    }));
  }

  /** Loads every prompt of a dataset (for filters at a stage boundary). */
  async loadAll(dataset: string, promptIds: readonly string[]): Promise<Map<string, PromptPassRates>> {
    const out = new Map<string, PromptPassRates>();
    for (let i = 0; i < promptIds.length; i += 64) {
      const batch = promptIds.slice(i, i + 64);
      const got = await Promise.all(batch.map((id) => this.get(dataset, id)));
      got.forEach((g, j) => g && out.set(batch[j] as string, g));
    }
    return out;
  }
}

/** One pass record per group a step trained on, keyed by its prompt. */
export function stepPassRecords(stage: string, step: number, groups: readonly ScoredGroup[]): { promptId: string; record: PassRecord }[] {
  return groups.map((g) => ({
    promptId: g.group.promptId,
    record: { stage, step, version: g.group.policyVersion, attempts: g.results.length, passes: g.results.filter((r) => r.correct).length },
  }));
}

/** Attempts and passes over the newest records, up to `window` attempts. */
export function recentPassRate(p: PromptPassRates | undefined, window: number): { attempts: number; passes: number } {
  let attempts = 0;
  let passes = 0;
  for (let i = (p?.records.length ?? 0) - 1; i >= 0 && attempts < window; i--) {
    const r = p?.records[i] as PassRecord;
    attempts += r.attempts;
    passes += r.passes;
  }
  return { attempts, passes };
}
