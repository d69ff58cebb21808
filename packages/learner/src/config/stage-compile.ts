/** One stage of the run file compiled: what it inherits from the stage before, and its checks. */
import { ValidationError, DOMAINS } from '@acereason/protocol';
import { parseBool, parseEnum, parseNumber, parseString, parseTokens, section } from './units.js';
import { NO_FILTER, type PromptFilterConfig } from '../curriculum/filters.js';
import type { TemperatureConfig } from '../curriculum/temperature.js';
import type { PlateauConfig } from '../curriculum/eval.js';
import type { DatasetConfig, StageConfig } from './run-config.js';

export const OVERLONG_POLICIES = ['mask', 'zero', 'penalty'] as const;
export type OverlongPolicy = (typeof OVERLONG_POLICIES)[number];

function compileTemperature(v: unknown, f: string, prev: TemperatureConfig | undefined): TemperatureConfig {
  if (v === undefined) return prev ?? { kind: 'fixed', value: 1.0 };
  if (typeof v === 'number' || typeof v === 'string') return { kind: 'fixed', value: parseNumber(v, f, { min: 0 }) };
  const t = section(v, f, ['from', 'to', 'target_entropy', 'initial', 'min', 'max', 'gain']);
  if (t.target_entropy !== undefined) {
    const min = parseNumber(t.min ?? 0.1, `${f}.min`, { min: 0.01 });
    const max = parseNumber(t.max ?? 2.0, `${f}.max`, { min: min });
    return {
      kind: 'entropy-target', target: parseNumber(t.target_entropy, `${f}.target_entropy`, { min: 0 }),
      initial: parseNumber(t.initial ?? 1.0, `${f}.initial`, { min: min, max }), min, max,
      gain: parseNumber(t.gain ?? 0.5, `${f}.gain`, { min: 0 }),
    };
  }
  if (t.from === undefined || t.to === undefined) throw new ValidationError(f, 'expected a number, {from, to} (a linear schedule) or {target_entropy, ...} (an entropy target)');
  return { kind: 'schedule', from: parseNumber(t.from, `${f}.from`, { min: 0 }), to: parseNumber(t.to, `${f}.to`, { min: 0 }) };
}

function compileFilter(v: unknown, f: string, prev: PromptFilterConfig | undefined): PromptFilterConfig {
  // Filters are per stage and not inherited: the recipe applies them before specific stages.
  void prev;
  if (v === undefined) return NO_FILTER;
  const o = section(v, f, ['max_pass_rate', 'drop_never_solved', 'drop_solved_each_epoch', 'window', 'min_attempts']);
  return {
    maxPassRate: o.max_pass_rate === undefined ? 1 : parseFraction(o.max_pass_rate, `${f}.max_pass_rate`),
    dropNeverSolved: o.drop_never_solved === undefined ? false : parseBool(o.drop_never_solved, `${f}.drop_never_solved`),
    dropSolvedEachEpoch: o.drop_solved_each_epoch === undefined ? false : parseBool(o.drop_solved_each_epoch, `${f}.drop_solved_each_epoch`),
    window: parseNumber(o.window ?? 16, `${f}.window`, { integer: true, min: 1 }),
    minAttempts: parseNumber(o.min_attempts ?? 1, `${f}.min_attempts`, { integer: true, min: 1 }),
  };
}

function compilePlateau(v: unknown, f: string): PlateauConfig | undefined {
  if (v === undefined) return undefined;
  const o = section(v, f, ['dataset', 'patience', 'min_delta']);
  return {
    dataset: parseString(o.dataset, `${f}.dataset`),
    patience: parseNumber(o.patience ?? 3, `${f}.patience`, { integer: true, min: 1 }),
    minDelta: parseNumber(o.min_delta ?? 0.005, `${f}.min_delta`, { min: 0 }),
  };
}

/** 0.375 or "6/16". */
function parseFraction(v: unknown, f: string): number {
  if (typeof v === 'string' && /^\s*\d+\s*\/\s*\d+\s*$/.test(v)) {
    const [a, b] = v.split('/').map((x) => Number(x.trim()));
    if (!b) throw new ValidationError(f, `division by zero in ${JSON.stringify(v)}`);
    return (a as number) / b;
  }
  return parseNumber(v, f, { min: 0, max: 1 });
}

export function compileStage(raw: unknown, i: number, datasets: Record<string, DatasetConfig>, prev: StageConfig | undefined): StageConfig {
  const f = `stages[${i}]`;
  const s = section(raw, f, ['name', 'domain', 'dataset', 'steps', 'epochs', 'plateau', 'batch_prompts', 'group_size', 'max_response_tokens', 'temperature', 'top_p', 'top_k', 'overlong', 'overlong_penalty_tokens', 'lr', 'reset_optimizer', 'zero_variance_filter', 'oversample', 'filter']);
  const name = parseString(s.name ?? `stage-${i}`, `${f}.name`);
  const dataset = parseString(s.dataset ?? prev?.dataset, `${f}.dataset`);
  const ds = datasets[dataset];
  if (!ds) throw new ValidationError(`${f}.dataset`, `"${dataset}" is not one of the datasets (${Object.keys(datasets).join(', ') || 'none defined'})`);
  const domain = s.domain === undefined ? ds.domain : parseEnum(s.domain, `${f}.domain`, DOMAINS);
  if (domain !== ds.domain) throw new ValidationError(`${f}.domain`, `is ${domain} but dataset "${dataset}" is ${ds.domain}`);
  const pick = <T>(key: string, parse: (v: unknown, field: string) => T, fallback: T | undefined): T => {
    const v = s[key];
    if (v === undefined) {
      if (fallback === undefined) throw new ValidationError(`${f}.${key}`, 'is required');
      return fallback;
    }
    return parse(v, `${f}.${key}`);
  };
  const overlong = pick('overlong', (v, fl) => parseEnum(v, fl, OVERLONG_POLICIES), prev?.overlong ?? 'mask');
  const epochs = s.epochs === undefined ? undefined : parseNumber(s.epochs, `${f}.epochs`, { min: 0.01 });
  if (epochs !== undefined && s.steps !== undefined) throw new ValidationError(`${f}.epochs`, 'give either steps or epochs, not both');
  const temperatureControl = compileTemperature(s.temperature, `${f}.temperature`, s.temperature === undefined ? prev?.temperatureControl : undefined);
  return {
    name, domain, dataset,
    steps: epochs !== undefined ? 0 : pick('steps', (v, fl) => parseNumber(v, fl, { integer: true, min: 1 }), undefined),
    epochs,
    temperatureControl,
    filter: compileFilter(s.filter, `${f}.filter`, prev?.filter),
    plateau: compilePlateau(s.plateau, `${f}.plateau`),
    batchPrompts: pick('batch_prompts', (v, fl) => parseNumber(v, fl, { integer: true, min: 1 }), prev?.batchPrompts ?? 128),
    groupSize: pick('group_size', (v, fl) => parseNumber(v, fl, { integer: true, min: 1, max: 1024 }), prev?.groupSize ?? 8),
    maxResponseTokens: pick('max_response_tokens', parseTokens, prev?.maxResponseTokens),
    temperature: temperatureControl.kind === 'fixed' ? temperatureControl.value : temperatureControl.kind === 'schedule' ? temperatureControl.from : temperatureControl.initial,
    topP: pick('top_p', (v, fl) => parseNumber(v, fl, { min: 0.001, max: 1 }), prev?.topP ?? 1.0),
    topK: pick('top_k', (v, fl) => parseNumber(v, fl, { integer: true, min: 0 }), prev?.topK ?? 0),
    overlong,
    overlongPenaltyTokens: pick('overlong_penalty_tokens', parseTokens, prev?.overlongPenaltyTokens ?? 1024),
    learningRate: s.lr === undefined ? prev?.learningRate : parseNumber(s.lr, `${f}.lr`, { min: 0 }),
    resetOptimizer: s.reset_optimizer === undefined ? false : parseBool(s.reset_optimizer, `${f}.reset_optimizer`),
    zeroVarianceFilter: pick('zero_variance_filter', parseBool, prev?.zeroVarianceFilter ?? true),
    oversample: pick('oversample', (v, fl) => parseNumber(v, fl, { min: 0, max: 10 }), prev?.oversample ?? 0),
  };
}

/** Compiles a raw run document. `baseDir` resolves relative paths (the run file's folder). */
