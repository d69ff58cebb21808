/**
 * Code rows in the shapes people publish: our schema (`tests: {inputs, outputs, fn_name}`; with
 * `fn_name` each output is the typed return value, a string stays a string; the other formats
 * are converted to that form),
 * TACO/APPS (`question`, `input_output` and `solutions` as JSON text), LiveCodeBench
 * (`question_content`, `public_test_cases`/`private_test_cases`, `metadata.func_name`) and
 * CodeContests (`description`, `public_tests`/`private_tests`/`generated_tests`, `solutions`).
 */
import type { CodeRow, CodeTestSet } from '../types.js';
import { RowFormatError, asObject, firstString, maybeJson, rowId, type Obj } from './read.js';

const PROBLEM_KEYS = ['problem', 'question', 'question_content', 'description', 'prompt'] as const;
const ID_KEYS = ['id', 'problem_id', 'question_id', 'task_id', 'name'] as const;
/** CodeContests keeps up to hundreds of generated tests; more than this adds time, not signal. */
const MAX_TESTS = 100;

function testsFromIo(v: unknown, field: string): CodeTestSet {
  const io = asIoObject(maybeJson(v, field), field);
  const inputs = io.inputs ?? io.input;
  const outputs = io.outputs ?? io.output;
  if (!Array.isArray(inputs) || !Array.isArray(outputs)) throw new RowFormatError(`"${field}" needs "inputs" and "outputs" lists`);
  if (inputs.length !== outputs.length) throw new RowFormatError(`"${field}" has ${inputs.length} inputs but ${outputs.length} outputs`);
  const t: CodeTestSet = { inputs: inputs as unknown[], outputs: outputs as unknown[] };
  const fn = io.fn_name ?? io.fnName;
  if (typeof fn === 'string' && fn !== '') t.fn_name = fn;
  return t;
}

function asIoObject(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RowFormatError(`"${field}" must be an object with "inputs" and "outputs"`);
  return v as Obj;
}

/**
 * LiveCodeBench: a list of {input, output, testtype}. A functional test's output is the return
 * value as JSON text (`"12"` is the int 12, `"\\"12\\""` the string "12"): it is decoded here, so
 * the row carries the typed value the verifier compares as it is.
 */
function lcbTests(o: Obj): CodeTestSet {
  const cases: unknown[] = [];
  for (const field of ['public_test_cases', 'private_test_cases']) {
    if (o[field] === undefined) continue;
    let v: unknown;
    try {
      v = maybeJson(o[field], field);
    } catch {
      throw new RowFormatError(`"${field}" is not JSON (compressed LiveCodeBench tests must be decompressed first)`);
    }
    if (v === undefined) continue;
    if (!Array.isArray(v)) throw new RowFormatError(`"${field}" must be a list of {input, output}`);
    cases.push(...(v as unknown[]));
  }
  const meta = maybeJson(o.metadata, 'metadata');
  const fn = typeof meta === 'object' && meta !== null ? (meta as Obj).func_name : undefined;
  const t: CodeTestSet = { inputs: [], outputs: [] };
  for (const [i, c] of cases.entries()) {
    if (typeof c !== 'object' || c === null || typeof (c as Obj).input !== 'string' || typeof (c as Obj).output !== 'string') throw new RowFormatError(`test case ${i} must have string "input" and "output"`);
    t.inputs.push((c as Obj).input);
    t.outputs.push((c as Obj).output);
    if ((c as Obj).testtype === 'functional' && typeof fn !== 'string') throw new RowFormatError('functional tests need "metadata.func_name"');
  }
  if (typeof fn === 'string' && cases.some((c) => (c as Obj).testtype === 'functional')) {
    t.fn_name = fn;
    t.outputs = t.outputs.map((out, i) => {
      try {
        return JSON.parse(out as string) as unknown;
      } catch {
        throw new RowFormatError(`test case ${i}: a functional test's "output" must be the return value as JSON text`);
      }
    });
  }
  return t;
}

/** CodeContests: {input: [...], output: [...]} objects, concatenated. */
function contestTests(o: Obj): CodeTestSet {
  const t: CodeTestSet = { inputs: [], outputs: [] };
  for (const field of ['public_tests', 'private_tests', 'generated_tests']) {
    const v = o[field];
    if (v === undefined || v === null) continue;
    const part = testsFromIo(v, field);
    t.inputs.push(...part.inputs);
    t.outputs.push(...part.outputs);
  }
  return t;
}

function solutionsOf(o: Obj): string[] {
  if (typeof o.solution === 'string' && o.solution.trim() !== '') return [o.solution];
  const s = o.solutions;
  if (s === undefined || s === null) return [];
  if (typeof s === 'object' && !Array.isArray(s)) {
    // CodeContests: parallel lists; language 3 is Python 3.
    const langs = (s as Obj).language;
    const code = (s as Obj).solution;
    if (!Array.isArray(langs) || !Array.isArray(code)) return [];
    return code.filter((c, i): c is string => typeof c === 'string' && langs[i] === 3);
  }
  const list = maybeJson(s, 'solutions');
  if (!Array.isArray(list)) throw new RowFormatError('"solutions" must be a list of programs');
  return list.filter((c): c is string => typeof c === 'string' && c.trim() !== '');
}

function seconds(v: unknown): number | undefined {
  if (typeof v === 'number' && v > 0) return v;
  if (typeof v === 'object' && v !== null) {
    const s = Number((v as Obj).seconds ?? 0) + Number((v as Obj).nanos ?? 0) / 1e9;
    return s > 0 ? s : undefined;
  }
  if (typeof v === 'string') {
    const m = /^\s*([\d.]+)\s*(s|sec|second|seconds)?\s*$/i.exec(v);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/**
 * TACO/APPS call-based tests store each return value wrapped in a one-element list (`[[0, 1]]` for
 * `[0, 1]`); their reference checker accepts the value or its first element. When every output of
 * a row is so wrapped, the row's outputs are unwrapped into the typed return values; otherwise
 * they are kept as they are (a wrongly kept wrapper can only reject, never accept).
 */
function unwrapCallOutputs(t: CodeTestSet): CodeTestSet {
  if (t.fn_name === undefined || t.outputs.length === 0) return t;
  if (!t.outputs.every((v) => Array.isArray(v) && v.length === 1)) return t;
  return { ...t, outputs: t.outputs.map((v) => (v as unknown[])[0]) };
}

function pickTests(o: Obj): CodeTestSet {
  if (o.tests !== undefined) return testsFromIo(o.tests, 'tests');
  if (o.input_output !== undefined) return unwrapCallOutputs(testsFromIo(o.input_output, 'input_output'));
  if (o.public_test_cases !== undefined || o.private_test_cases !== undefined) return lcbTests(o);
  if (o.public_tests !== undefined || o.private_tests !== undefined || o.generated_tests !== undefined) return contestTests(o);
  throw new RowFormatError('no tests: expected "tests", "input_output", "public_test_cases" or "public_tests"');
}

/** stdin tests are text: a list of lines is joined, a number is printed; anything else is an error naming the test. */
function stdinText(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.map(String).join('\n') + '\n';
  throw new RowFormatError(`${what} must be text for a stdin/stdout problem`);
}

function checkTests(t: CodeTestSet): void {
  if (t.inputs.length === 0) throw new RowFormatError('no tests');
  if (t.fn_name !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(t.fn_name)) throw new RowFormatError(`fn_name "${t.fn_name}" is not an identifier`);
    return;
  }
  t.inputs = t.inputs.map((v, i) => stdinText(v, `test input ${i}`));
  t.outputs = t.outputs.map((v, i) => stdinText(v, `test output ${i}`));
}

export function normalizeCodeRow(value: unknown, line: number, fallbackId: string): CodeRow {
  const o = asObject(value);
  let problem = firstString(o, PROBLEM_KEYS);
  if (problem === undefined) throw new RowFormatError('missing problem statement ("problem", "question", "question_content" or "description")');
  const starter = firstString(o, ['starter_code']);
  if (starter !== undefined) problem = `${problem.trim()}\n\n${starter.trim()}`;
  const tests = pickTests(o);
  checkTests(tests);
  if (tests.inputs.length > MAX_TESTS) {
    tests.inputs = tests.inputs.slice(0, MAX_TESTS);
    tests.outputs = tests.outputs.slice(0, MAX_TESTS);
  }
  const row: CodeRow = { domain: 'code', id: rowId(o, ID_KEYS, fallbackId), problem: problem.trim(), tests, solutions: solutionsOf(o), line, hints: {} };
  const tl = seconds(o.time_limit_s ?? o.time_limit);
  if (tl !== undefined) row.time_limit_s = tl;
  if (typeof o.memory_mb === 'number') row.memory_mb = o.memory_mb;
  else if (typeof o.memory_limit_bytes === 'number' && o.memory_limit_bytes > 0) row.memory_mb = Math.round(o.memory_limit_bytes / 2 ** 20);
  if (o.special_judge === true || o.checker === true || (typeof o.checker === 'string' && o.checker !== '') || o.interactive === true) row.hints.specialJudge = true;
  return row;
}
