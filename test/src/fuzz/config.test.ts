/**
 * Malformed run configs and dataset rows: every failure is a typed error that names the field
 * (for configs) or the file and line (for dataset rows); nothing else is ever thrown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { AceReasonError, ValidationError } from '@acereason/protocol';
import { loadDataset, loadRunConfig, parsePromptRow } from '@acereason/learner';
import { tempDir } from '@acereason/testkit';
import { iterations, rng, seedFor, withSeed, type Rng } from './random.js';

const BASE = `
run: { id: fuzz-run, seed: 3, out_dir: out }
model: { preset: demo, tokenizer: char }
engine: { threads: 1 }
datasets:
  arith: { path: math.jsonl, domain: math, prompt_template: "q:{problem}=" }
  code: { path: code.jsonl, domain: code, prompt_template: "{problem}\\n" }
algorithm: { mode: async, max_staleness: 2 }
optimizer: { lr: 0.002, weight_decay: 0, max_grad_norm: 1.0 }
stages:
  - { name: math-8k, dataset: arith, steps: 10, batch_prompts: 4, group_size: 4, max_response_tokens: 8k, temperature: 1.0, overlong: mask, zero_variance_filter: true }
  - { name: code-16k, dataset: code, steps: 5, max_response_tokens: 16k, overlong: penalty, overlong_penalty_tokens: 1k }
eval: { datasets: [arith], k: 4, temperature: 0.6, max_prompts: 8 }
checkpoint: { every_steps: 2, keep: 2 }
cluster: { grpc_bind: "127.0.0.1:0", ack_wait: 3s, step_timeout: 60s }
`;

type Path = (string | number)[];

function leafPaths(v: unknown, path: Path = [], out: Path[] = []): Path[] {
  if (path.length > 0) out.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => leafPaths(x, [...path, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) leafPaths(x, [...path, k], out);
  return out;
}

function setAt(root: unknown, path: Path, fn: (parent: Record<string | number, unknown>, key: string | number) => void): void {
  // An earlier mutation may have replaced part of the path: then there is nothing to do.
  let cur: unknown = root;
  for (const k of path.slice(0, -1)) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string | number, unknown>)[k] : undefined;
  const last = path[path.length - 1];
  if (last !== undefined && typeof cur === 'object' && cur !== null) fn(cur as Record<string | number, unknown>, last);
}

const WRONG = [null, true, -1, 0, 1e308, -0.5, 'abc', '', [], {}, [1, 2], { a: 1 }, 'NaN', '1e999'];
const BAD_UNITS = ['30 parsecs', '-5s', '8kk', '1.5.2k', 's', 'k', '5 m s', '99999999999999999999k', '0x10', '∞', '3 s', '1e3ms', '12', '-1k'];

function mutateConfig(r: Rng): { text: string; kind: string } {
  const doc = parseYaml(BASE) as unknown;
  const paths = leafPaths(doc);
  const path = r.pick(paths);
  const kind = r.pick(['delete', 'wrong_type', 'unknown_key', 'bad_unit', 'syntax', 'several']);
  const one = (k: string, p: Path): void => {
    switch (k) {
      case 'delete':
        setAt(doc, p, (o, key) => (Array.isArray(o) ? o.splice(Number(key), 1) : delete o[key]));
        break;
      case 'wrong_type':
        setAt(doc, p, (o, key) => (o[key] = r.pick(WRONG)));
        break;
      case 'unknown_key':
        setAt(doc, p, (o) => {
          if (typeof o === 'object' && o !== null && !Array.isArray(o)) o[r.pick(['colour', 'stepz', 'max_respone_tokens', '__proto__x', 'x'])] = 1;
        });
        break;
      case 'bad_unit':
        setAt(doc, p, (o, key) => (o[key] = r.pick(BAD_UNITS)));
        break;
    }
  };
  if (kind === 'syntax') {
    const text = stringifyYaml(doc);
    const at = r.int(text.length);
    const junk = r.pick(['\t', ': :', '"', "'", '{', '[', '- ', '\n  - ', '&a *b', '!!binary', '%YAML 9', '\u0000', '? ', '|\n-']);
    return { text: text.slice(0, at) + junk + text.slice(r.chance(0.5) ? at : at + r.int(20)), kind };
  }
  if (kind === 'several') for (let k = 0; k < 3; k++) one(r.pick(['delete', 'wrong_type', 'unknown_key', 'bad_unit']), r.pick(paths));
  else one(kind, path);
  return { text: stringifyYaml(doc), kind };
}

test('fuzz run configs: every malformed config fails with a typed error naming a field', async (t) => {
  const seed = seedFor(5000);
  t.diagnostic(`seed ${seed}`);
  await withSeed(seed, async () => {
    const r = rng(seed);
    const n = iterations(200);
    await using dir = await tempDir('acereason-fuzz-config-');
    const file = join(dir.path, 'run.yaml');
    writeFileSync(file, BASE);
    assert.equal(loadRunConfig(file).runId, 'fuzz-run', 'the base config is valid');
    const outcome = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const { text, kind } = mutateConfig(r);
      writeFileSync(file, text);
      try {
        loadRunConfig(file);
        outcome.set('accepted', (outcome.get('accepted') ?? 0) + 1);
      } catch (err) {
        const shown = `${kind} #${i}: ${String(err)}\n--- config ---\n${text.slice(0, 1500)}`;
        assert.ok(err instanceof AceReasonError, `untyped error ${shown}`);
        assert.ok(err.field !== undefined && err.field.length > 0, `no field named: ${shown}`);
        assert.ok(err.message.startsWith(err.field) || err.message.includes(err.field), `message does not name ${err.field}: ${shown}`);
        const key = `${err.name}`;
        outcome.set(key, (outcome.get(key) ?? 0) + 1);
      }
    }
    t.diagnostic(`run configs: ${n} mutated configs fuzzed -> ${[...outcome].map(([k, v]) => `${k}=${v}`).join(' ')}`);
  });
});

function randomRow(r: Rng): string {
  const value = (): unknown => r.pick([null, 1, -2.5, '', ' ', 'x', '\\frac{1}{2}', [], {}, [1], { inputs: [], outputs: [] }, { inputs: ['1'], outputs: ['1', '2'] }, { inputs: ['1'], outputs: ['1'], fn_name: 3 }, true]);
  switch (r.int(5)) {
    case 0:
      return Buffer.from(r.bytes(r.int(80))).toString('latin1').replace(/\n/g, ' ');
    case 1:
      return JSON.stringify(value());
    case 2: {
      const o: Record<string, unknown> = {};
      for (const k of ['id', 'problem', 'answer', 'tests', 'prompt', 'question', 'problem_id']) if (r.chance(0.5)) o[k] = r.chance(0.6) ? (k === 'id' ? `r${r.int(1000)}` : k === 'tests' ? { inputs: ['1\n'], outputs: ['1\n'] } : 'text') : value();
      return JSON.stringify(o);
    }
    case 3:
      return JSON.stringify({ id: `v${r.int(1e9)}`, problem: '1+1', answer: '2', tests: { inputs: ['1\n'], outputs: ['1\n'] } }).slice(0, r.chance(0.5) ? undefined : r.int(40));
    default:
      return '';
  }
}

test('fuzz dataset rows: every bad row fails with a typed error naming the file and line', async (t) => {
  const seed = seedFor(6000);
  t.diagnostic(`seed ${seed}`);
  await withSeed(seed, async () => {
    const r = rng(seed);
    const n = iterations(200);
    await using dir = await tempDir('acereason-fuzz-data-');
    const outcome = new Map<string, number>();
    let rows = 0;
    for (let i = 0; i < n; i++) {
      const domain = r.chance(0.5) ? 'math' : 'code';
      const lines = Array.from({ length: 1 + r.int(8) }, () => randomRow(r));
      rows += lines.length;
      const file = join(dir.path, `d${i}.jsonl`);
      writeFileSync(file, lines.join('\n'));
      try {
        loadDataset('fz', file, domain);
        outcome.set('accepted', (outcome.get('accepted') ?? 0) + 1);
      } catch (err) {
        const shown = `#${i} (${domain}): ${String(err)}\n--- rows ---\n${lines.join('\n').slice(0, 1000)}`;
        assert.ok(err instanceof ValidationError, `untyped error ${shown}`);
        assert.ok(err.message.includes(file), `the error names the file: ${shown}`);
        const m = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)`).exec(err.message);
        if (m) {
          const line = Number(m[1]);
          assert.ok(line >= 1 && line <= lines.length, `line ${line} is in the file: ${shown}`);
        } else {
          assert.ok(/has no rows/.test(err.message), `no line named: ${shown}`);
        }
        outcome.set(m ? 'row error' : 'empty file', (outcome.get(m ? 'row error' : 'empty file') ?? 0) + 1);
      }
      // The same rows one by one through parsePromptRow.
      for (const [k, l] of lines.entries()) {
        let v: unknown;
        try {
          v = JSON.parse(l);
        } catch {
          continue;
        }
        try {
          parsePromptRow(v, domain, { file: 'rows.jsonl', line: k + 1 });
        } catch (err) {
          assert.ok(err instanceof ValidationError && err.message.startsWith(`rows.jsonl:${k + 1}:`), `parsePromptRow: ${String(err)}`);
        }
      }
    }
    t.diagnostic(`dataset rows: ${n} files with ${rows} random rows fuzzed -> ${[...outcome].map(([k, v]) => `${k}=${v}`).join(' ')}`);
  });
});
