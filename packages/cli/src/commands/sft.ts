/**
 * `acereason sft`: supervised fine-tuning of the demo model (DEMO_MODEL, character tokenizer) on the
 * demo tasks, so that it answers math prompts with a short worked answer ending in `\boxed{N}` and
 * code prompts with a tiny ```python block. Deterministic given the seed (one thread, fixed data
 * order). The demo's shipped checkpoint (assets/demo-sft.safetensors) is
 * `acereason sft --out assets/demo-sft.safetensors` with the defaults.
 *
 * The traces come from an imperfect teacher, as distillation data usually does: on a share of its
 * math traces it stops one step early and boxes an intermediate result, and on a share of its code
 * traces it leaves out the task's last clause (the "plus c", the "modulo m"). The checkpoint so
 * learns the formats and the arithmetic, and also the teacher's habits; RL with the verifiers'
 * rewards is what teaches it which habit is right. The held-out eval problems are never in the
 * SFT data.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';

/** The prompt templates of the `demo` recipe (packages/learner/recipes/demo.yaml): keep them in step. */
export const DEMO_MATH_TEMPLATE = '{problem}=';
export const DEMO_CODE_TEMPLATE = '{problem}\n';

export const SFT_DEFAULTS = {
  seed: 1, steps: 2500, batch: 32, lr: 3e-3,
  /** Share of each batch that is math (the rest is code). */
  mathShare: 0.6,
  /** Math problems generated for SFT (held-out eval problems excluded). */
  mathPool: 20_000,
  /** The teacher's slip rates: math traces that stop one step early, code traces without the last clause. */
  stopEarly: 0.5,
  dropClause: 0.5,
} as const;
const SFT_POOL_SEED = 500;

const USAGE = 'acereason sft --out FILE.safetensors [--seed N] [--steps N] [--stop-early P] [--drop-clause P] [--data DIR]';

interface MathRow { problem: string; answer: string }
interface CodeRow { problem: string; solution: string }

const step = (a: number, op: string, b: number): number => (op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b);

/** A short worked answer for a demo math problem: the intermediate results, then `\boxed{N}`. */
export function workedMath(problem: string, answer: string): string {
  const steps: string[] = [];
  const expr = /^what is (.+)\?$/.exec(problem);
  const eq = /^solve for x: (.+)=(-?\d+)\. what is x\?$/.exec(problem);
  if (expr) {
    const toks = (expr[1] as string).replace(/[()]/g, '').match(/\d+|[-+*]/g) ?? [];
    let v = Number(toks[0]);
    for (let i = 1; i + 1 < toks.length; i += 2) {
      const n = step(v, toks[i] as string, Number(toks[i + 1]));
      steps.push(`${v}${toks[i]}${toks[i + 1]}=${n}`);
      v = n;
    }
  } else if (eq) {
    // Undo the operations on x from the outside in.
    let e = eq[1] as string;
    let v = Number(eq[2]);
    for (let guard = 0; e !== 'x' && guard < 20; guard++) {
      const tail = /^(.*)([-+])(\d)$/.exec(e);
      const mul = /^(\d)\*(.*)$/.exec(e);
      if (mul && (!tail || e.endsWith(')') || e.endsWith('x'))) {
        const n = v / Number(mul[1]);
        steps.push(`${v}/${mul[1]}=${n}`);
        v = n;
        const rest = mul[2] as string;
        e = /^\(.*\)$/.test(rest) ? rest.slice(1, -1) : rest;
      } else if (tail) {
        const op = tail[2] === '+' ? '-' : '+';
        const n = step(v, op, Number(tail[3]));
        steps.push(`${v}${op}${tail[3]}=${n}`);
        v = n;
        e = tail[1] as string;
      } else break;
    }
  } else {
    const start = /has (\d+) /.exec(problem);
    let v = Number(start?.[1] ?? answer);
    for (const s of problem.split('.').slice(1)) {
      let m: RegExpExecArray | null;
      let op = '';
      let c = 0;
      if ((m = /gets (\d+) more/.exec(s))) [op, c] = ['+', Number(m[1])];
      else if ((m = /gives away (\d+)/.exec(s))) [op, c] = ['-', Number(m[1])];
      else if (/doubles/.test(s)) [op, c] = ['*', 2];
      else if (/triples/.test(s)) [op, c] = ['*', 3];
      else if ((m = /into (\d+) equal/.exec(s))) [op, c] = ['/', Number(m[1])];
      if (!op) continue;
      const n = step(v, op, c);
      steps.push(`${v}${op}${c}=${n}`);
      v = n;
    }
  }
  return `${steps.join(',')}${steps.length ? '. ' : ''}\\boxed{${answer}}`;
}

/** A code answer: the reference solution in a ```python block. */
export function codeAnswer(solution: string): string {
  return '```python\n' + solution + '```';
}

/** The teacher's math slip: the worked answer without its last step, boxing the result before it. */
export function stopOneStepEarly(worked: string): string {
  const m = /^(.*)\. \\boxed\{.*\}$/s.exec(worked);
  if (!m) return worked;
  const steps = (m[1] as string).split(',');
  if (steps.length >= 2) {
    const prev = steps[steps.length - 2] as string;
    return `${steps.slice(0, -1).join(',')}. \\boxed{${prev.slice(prev.lastIndexOf('=') + 1)}}`;
  }
  // One step: box the number it starts from.
  const first = /^-?\d+/.exec(steps[0] as string);
  return first ? `\\boxed{${first[0]}}` : worked;
}

/** The teacher's code slip: the solution without the task's last clause (a trailing `+ c`, a `% m`); unchanged when there is none. */
export function dropLastClause(solution: string): string {
  return solution.replace(/ \+ \d+\)\n$/, ')\n').replace(/(return \w+) % \d+\n$/, '$1\n');
}

type ParseJsonl = typeof import('@acereason/learner').parseJsonl;

/** A demo JSONL file's rows, each with the string fields `need`; a bad row is named by file and line. */
function readRows(parseJsonl: ParseJsonl, path: string, need: readonly string[]): Record<string, unknown>[] {
  return parseJsonl(readFileSync(path, 'utf8'), path).map(({ line, value }) => {
    const row = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    for (const k of need) if (typeof row[k] !== 'string') throw new Error(`${path}:${line}: "${k}" must be a string`);
    return row;
  });
}


const sft: Command = {
  name: 'sft',
  summary: 'supervised fine-tuning of the demo model on the demo tasks (writes the demo\'s starting checkpoint)',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, {
      out: { type: 'string' }, seed: { type: 'string' }, steps: { type: 'string' }, data: { type: 'string' },
      'stop-early': { type: 'string' }, 'drop-clause': { type: 'string' },
    }, USAGE);
    if (!values.out) throw new UsageError('--out is required', `usage: ${USAGE}`);
    const seed = (numberFlag('seed', values.seed, { integer: true, min: 0 }, USAGE) ?? SFT_DEFAULTS.seed);
    const steps = (numberFlag('steps', values.steps, { integer: true, min: 0 }, USAGE) ?? SFT_DEFAULTS.steps);
    const stopEarly = numberFlag('stop-early', values['stop-early'], { min: 0, max: 1 }, USAGE) ?? SFT_DEFAULTS.stopEarly;
    const dropClause = numberFlag('drop-clause', values['drop-clause'], { min: 0, max: 1 }, USAGE) ?? SFT_DEFAULTS.dropClause;
    const out = resolve(values.out);
    const policy = await import('@acereason/policy');
    const curate = await import('@acereason/curate');
    let dataDir = values.data ? resolve(values.data) : undefined;
    let tmp: string | undefined;
    if (!dataDir) {
      tmp = mkdtempSync(join(tmpdir(), 'acereason-sft-'));
      curate.writeDemoSplits({ outDir: tmp, seed: 1 });
      dataDir = tmp;
    }
    let math: MathRow[];
    let code: CodeRow[];
    try {
      const { parseJsonl } = await import('@acereason/learner');
      const heldOut = new Set(readRows(parseJsonl, join(dataDir, 'math-eval.jsonl'), ['problem']).map((r) => curate.canonicalText(r.problem as string)));
      // With --data, its math-train rows; by default a larger generated pool, held-out problems left out.
      math = values.data
        ? (readRows(parseJsonl, join(dataDir, 'math-train.jsonl'), ['problem', 'answer']) as unknown as MathRow[])
        : curate.demoMathSplit(SFT_DEFAULTS.mathPool, SFT_POOL_SEED, curate.DEMO_MAX_DIFFICULTY).filter((r) => !heldOut.has(curate.canonicalText(r.problem)));
      // Code rows without a reference solution have nothing to imitate.
      code = (readRows(parseJsonl, join(dataDir, 'code-train.jsonl'), ['problem']) as unknown as CodeRow[]).filter((r) => typeof r.solution === 'string');
    } catch (err) {
      throw new UsageError(`cannot read the demo data in ${dataDir}: ${(err as Error).message}`, 'Pass a folder written by `acereason curate demo` (math-train.jsonl, math-eval.jsonl, code-train.jsonl), or leave out --data.');
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
    if (math.length === 0 || code.length === 0) throw new UsageError(`no math or code rows in ${dataDir}`);
    const tok = new policy.CharTokenizer(policy.DEMO_ALPHABET);
    const encode = (prompt: string, response: string): { tokens: Uint32Array; responseStart: number } => {
      const p = tok.encode(prompt);
      const r = tok.encode(response);
      const tokens = new Uint32Array(p.length + r.length + 1);
      tokens.set(p);
      tokens.set(r, p.length);
      tokens[tokens.length - 1] = tok.eosTokenId;
      return { tokens, responseStart: p.length };
    };
    // The teacher's slips are drawn once per example from their own seeded stream.
    let y = (seed * 40503 + 1) >>> 0;
    const slip = (p: number): boolean => ((y = (Math.imul(y, 1664525) + 1013904223) >>> 0) / 4294967296) < p;
    const examples = [
      ...math.map((r) => {
        const worked = workedMath(r.problem, r.answer);
        return encode(DEMO_MATH_TEMPLATE.replace('{problem}', r.problem), slip(stopEarly) ? stopOneStepEarly(worked) : worked);
      }),
      ...code.map((r) => encode(DEMO_CODE_TEMPLATE.replace('{problem}', r.problem), codeAnswer(slip(dropClause) ? dropLastClause(r.solution) : r.solution))),
    ];
    const nMath = math.length;
    const engine = await policy.createOnnxEngine({
      model: policy.DEMO_MODEL, seed, threads: 1,
      optimizer: { learningRate: SFT_DEFAULTS.lr, weightDecay: 0, maxGradNorm: 1, schedule: 'constant' },
    });
    ctx.stdout.write(`sft: demo model, ${nMath} math + ${examples.length - nMath} code examples (teacher slips: ${stopEarly} of math stop a step early, ${dropClause} of code drop the last clause), ${steps} steps of ${SFT_DEFAULTS.batch}, seed ${seed}\n`);
    try {
      // A seeded LCG picks each batch: the first mathShare of it math, the rest code.
      let x = (seed * 2654435761) >>> 0;
      const rnd = (n: number): number => Math.floor(((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296) * n);
      const t0 = Date.now();
      for (let s = 0; s < steps; s++) {
        const sequences = Array.from({ length: SFT_DEFAULTS.batch }, (_, i) => {
          const e = i < SFT_DEFAULTS.batch * SFT_DEFAULTS.mathShare ? examples[rnd(nMath)] : examples[nMath + rnd(examples.length - nMath)];
          return e as { tokens: Uint32Array; responseStart: number };
        });
        const r = await engine.trainStep({ sequences, loss: { kind: 'sft', aggregation: 'token-mean' } });
        if (s % 100 === 0 || s === steps - 1) ctx.stdout.write(`step ${String(s).padStart(4)}  loss ${r.loss.toFixed(4)}  ${((Date.now() - t0) / 1000).toFixed(0)}s\n`);
      }
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, await engine.exportSafetensors());
    } finally {
      await engine.dispose();
    }
    ctx.stdout.write(`${out}\n`);
    return 0;
  },
};
export default sft;
