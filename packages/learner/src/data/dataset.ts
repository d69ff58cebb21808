/**
 * Prompt datasets: JSON lines, one problem per line.
 *   math: {"id", "problem" | "prompt" | "question", "answer"}
 *   code: {"id", "problem" | "prompt" | "question", "tests": {"inputs", "outputs", "fn_name"?}, "time_limit_s"?, "memory_mb"?}
 * A bad row is an error naming its line number and what is wrong. A code prompt keeps its tests
 * here (the learner uploads them once); its reference carries only their digest and size.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { encodeCodeTests, parseJsonl, ValidationError, type CheckableReference, type CodeTests, type Domain, type Reference } from '@acereason/protocol';

export interface Prompt {
  id: string;
  problem: string;
  /** What travels with the prompt's tasks and groups. */
  reference: Reference;
  /** A code prompt's tests (what `reference.tests` points at). */
  tests?: CodeTests;
}

/** The prompt's reference with its tests in hand, for scoring it in this process. */
export function checkableReference(p: Prompt): CheckableReference {
  if (p.reference.type === 'math') return p.reference;
  if (!p.tests) throw new ValidationError('tests', `prompt ${p.id} has a code reference but no tests`);
  const { tests: _ref, ...rest } = p.reference;
  return { ...rest, tests: p.tests };
}

export interface Dataset {
  name: string;
  domain: Domain;
  prompts: Prompt[];
}

function rowError(file: string, line: number, problem: string): ValidationError {
  return new ValidationError(`${file}:${line}`, problem);
}

/** How a dataset's answers are read (from its run-config entry); carried on each math reference. */
export interface DatasetOptions {
  /** Decimals are written with a comma (`3,5` is 3.5). */
  decimalComma?: boolean;
  /** The dataset's name, carried in code references (default: the file's name without extension). */
  dataset?: string;
}

export function parsePromptRow(value: unknown, domain: Domain, where: { file: string; line: number }, options: DatasetOptions = {}): Prompt {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw rowError(where.file, where.line, 'expected a JSON object');
  const o = value as Record<string, unknown>;
  const id = o.id ?? o.problem_id ?? o.question_id;
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id).length === 0) throw rowError(where.file, where.line, 'missing "id"');
  const problem = o.problem ?? o.prompt ?? o.question;
  if (typeof problem !== 'string' || problem.trim() === '') throw rowError(where.file, where.line, 'missing "problem" (or "prompt"/"question") text');
  if (domain === 'math') {
    const answer = o.answer;
    if ((typeof answer !== 'string' && typeof answer !== 'number') || String(answer).trim() === '') throw rowError(where.file, where.line, 'missing "answer"');
    return { id: String(id), problem, reference: { type: 'math', answer: String(answer), ...(options.decimalComma === true ? { decimalComma: true } : {}) } };
  }
  const tests = o.tests;
  if (typeof tests !== 'object' || tests === null || Array.isArray(tests)) throw rowError(where.file, where.line, 'missing "tests" object with "inputs" and "outputs"');
  const t = tests as Record<string, unknown>;
  if (!Array.isArray(t.inputs) || !Array.isArray(t.outputs)) throw rowError(where.file, where.line, '"tests.inputs" and "tests.outputs" must be lists');
  if (t.inputs.length !== t.outputs.length) throw rowError(where.file, where.line, `"tests" has ${t.inputs.length} inputs but ${t.outputs.length} outputs`);
  if (t.inputs.length === 0) throw rowError(where.file, where.line, '"tests" is empty');
  const fnName = t.fn_name ?? t.fnName;
  if (fnName !== undefined && typeof fnName !== 'string') throw rowError(where.file, where.line, '"tests.fn_name" must be a string');
  const codeTests: CodeTests = { inputs: t.inputs, outputs: t.outputs, ...(typeof fnName === 'string' ? { fnName } : {}) };
  const stored = encodeCodeTests(codeTests);
  const dataset = options.dataset ?? basename(where.file).replace(/\.[^.]*$/, '');
  const reference: Reference = { type: 'code', tests: { dataset: dataset || 'dataset', promptId: String(id), sha256: createHash('sha256').update(stored).digest('hex'), bytes: stored.length } };
  if (typeof o.time_limit_s === 'number') reference.timeLimitS = o.time_limit_s;
  if (typeof o.memory_mb === 'number') reference.memoryMb = o.memory_mb;
  return { id: String(id), problem, reference, tests: codeTests };
}

export { parseJsonl };

export function loadDataset(name: string, path: string, domain: Domain, options: DatasetOptions = {}): Dataset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(`datasets.${name}.path`, `cannot read ${path}: ${(err as Error).message}`);
  }
  const prompts: Prompt[] = [];
  const seen = new Map<string, number>();
  for (const { line, value } of parseJsonl(text, path)) {
    const p = parsePromptRow(value, domain, { file: path, line }, { ...options, dataset: options.dataset ?? name });
    const first = seen.get(p.id);
    if (first !== undefined) throw rowError(path, line, `duplicate id "${p.id}" (first on line ${first})`);
    seen.set(p.id, line);
    prompts.push(p);
  }
  if (prompts.length === 0) throw new ValidationError(`datasets.${name}.path`, `${path} has no rows`);
  return { name, domain, prompts };
}
