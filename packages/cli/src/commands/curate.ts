/**
 * `acereason curate math|code --in RAW --out CLEAN [--benchmark FILE]... [--report FILE]`: ingest,
 * filter, dedup, decontaminate, check reference solutions, score difficulty; and
 * `acereason curate demo --out DIR [--seed N]`: the demo's math and code train/eval splits.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { PassRateTable } from '@acereason/learner';
import type { CurateOptions, EngineSampler } from '@acereason/curate';
import type { CodeVerifier } from '@acereason/verify-code';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';

const USAGE = [
  'acereason curate <math|code> --in RAW --out CLEAN [--benchmark FILE]... [--report FILE] [--ngram N]',
  '    [--near-threshold X] [--min-chars N] [--min-tests N] [--max-answer-chars N] [--no-reference-check] [--require-solution] [--workers N]',
  '    [--difficulty-model WEIGHTS.safetensors --k K --min-pass X --max-pass Y [--max-new-tokens N] [--temperature T] [--prompt-template T] [--seed N] [--nats URL --dataset NAME]',
  '    [--model-config HF_CONFIG.json --tokenizer TOKENIZER.json]]',
  'acereason curate demo --out DIR [--seed N] [--math-train N] [--math-eval N] [--code-train N] [--code-eval N] [--max-difficulty D]',
].join('\n       ');



const curate: Command = {
  name: 'curate',
  summary: 'clean a prompt dataset (formats, dedup, decontamination, filters, difficulty) or write the demo tasks',
  usage: USAGE,
  async run(args, ctx) {
    const { values, positionals } = parseFlags(args, {
      in: { type: 'string' }, out: { type: 'string' }, benchmark: { type: 'string', multiple: true }, report: { type: 'string' },
      ngram: { type: 'string' }, 'near-threshold': { type: 'string' }, 'min-chars': { type: 'string' }, 'min-tests': { type: 'string' },
      'max-answer-chars': { type: 'string' }, 'no-reference-check': { type: 'boolean' }, 'require-solution': { type: 'boolean' }, workers: { type: 'string' },
      'difficulty-model': { type: 'string' }, nats: { type: 'string' }, dataset: { type: 'string' }, k: { type: 'string' }, 'min-pass': { type: 'string' }, 'max-pass': { type: 'string' },
      'max-new-tokens': { type: 'string' }, 'prompt-template': { type: 'string' }, seed: { type: 'string' },
      'model-config': { type: 'string' }, tokenizer: { type: 'string' }, temperature: { type: 'string' },
      'math-train': { type: 'string' }, 'math-eval': { type: 'string' }, 'code-train': { type: 'string' }, 'code-eval': { type: 'string' }, 'max-difficulty': { type: 'string' },
    }, USAGE);
    const [what] = positionals;
    const lib = await import('@acereason/curate');
    const seed = numberFlag('seed', values.seed, { integer: true, min: 0 });

    if (what === 'demo') {
      if (values.out === undefined) throw new UsageError('--out DIR is required', `usage: ${USAGE}`);
      const maxD = numberFlag('max-difficulty', values['max-difficulty'], { integer: true, min: 1 });
      if (maxD !== undefined && maxD > 8) throw new UsageError('--max-difficulty: at most 8');
      const { files } = lib.writeDemoSplits({
        outDir: values.out,
        ...(seed !== undefined ? { seed } : {}),
        ...(maxD !== undefined ? { maxDifficulty: maxD } : {}),
        ...opt('mathTrain', numberFlag('math-train', values['math-train'], { integer: true, min: 1 })),
        ...opt('mathEval', numberFlag('math-eval', values['math-eval'], { integer: true, min: 1 })),
        ...opt('codeTrain', numberFlag('code-train', values['code-train'], { integer: true, min: 1 })),
        ...opt('codeEval', numberFlag('code-eval', values['code-eval'], { integer: true, min: 1 })),
      });
      for (const f of Object.values(files)) ctx.stdout.write(`${f.path}: ${f.rows} rows\n`);
      return 0;
    }

    if (what !== 'math' && what !== 'code') throw new UsageError(`expected "math", "code" or "demo", got ${what === undefined ? 'nothing' : `"${what}"`}`, `usage: ${USAGE}`);
    if (values.in === undefined || values.out === undefined) throw new UsageError('--in RAW and --out CLEAN are required', `usage: ${USAGE}`);
    for (const f of [values.in, ...(values.benchmark ?? [])]) if (!existsSync(f)) throw new UsageError(`cannot read ${f}: no such file`);
    const near = numberFlag('near-threshold', values['near-threshold'], { min: 0, max: 1 });
    const options: CurateOptions = {
      domain: what,
      input: values.in,
      output: values.out,
      benchmarks: values.benchmark ?? [],
      ...opt('ngram', numberFlag('ngram', values.ngram, { integer: true, min: 1 })),
      ...(near !== undefined ? { dedup: { threshold: near } } : {}),
      mathFilters: { ...opt('minChars', numberFlag('min-chars', values['min-chars'], { integer: true, min: 0 })), ...opt('maxAnswerChars', numberFlag('max-answer-chars', values['max-answer-chars'], { integer: true, min: 1 })) },
      codeFilters: { ...opt('minChars', numberFlag('min-chars', values['min-chars'], { integer: true, min: 0 })), ...opt('minTests', numberFlag('min-tests', values['min-tests'], { integer: true, min: 0 })) },
      referenceCheck: values['no-reference-check'] === true ? false : { requireSolution: values['require-solution'] === true },
    };

    const difficulty = values['difficulty-model'];
    if (difficulty === undefined && (values.k !== undefined || values['min-pass'] !== undefined || values['max-pass'] !== undefined)) throw new UsageError('--k/--min-pass/--max-pass need --difficulty-model WEIGHTS.safetensors');
    if (difficulty !== undefined && !existsSync(difficulty)) throw new UsageError(`--difficulty-model: cannot read ${difficulty}: no such file`);

    const needSandbox = what === 'code' && (values['no-reference-check'] !== true || difficulty !== undefined);
    let verifier: CodeVerifier | undefined;
    let sampler: EngineSampler | undefined;
    const closers: (() => Promise<void>)[] = [];
    try {
      if (needSandbox) {
        const code = await import('@acereason/verify-code');
        verifier = new code.CodeVerifier({ ...opt('concurrency', numberFlag('workers', values.workers, { integer: true, min: 1 })) });
        try {
          await verifier.ready();
        } catch (err) {
          if (err instanceof code.SandboxUnavailableError) throw new UsageError(`no sandbox for reference solutions: ${err.message}`, 'install bubblewrap, or pass --no-reference-check');
          throw err;
        }
        options.codeVerifier = verifier;
      }
      // With --nats the pass rates go to the cluster's pass-rate table (the learner's stage filters read it).
      const sink = values.nats !== undefined && difficulty !== undefined
        ? await openTableSink(values.nats, values.dataset ?? basename(values.out ?? 'dataset').replace(/\.[^.]*$/, ''), `curate:${basename(difficulty)}`)
        : new lib.InMemoryPassRateSink();
      if (sink instanceof TableSink) closers.push(() => sink.close());
      if (difficulty !== undefined) {
        const k = numberFlag('k', values.k, { integer: true, min: 1 }) ?? 8;
        const minPass = numberFlag('min-pass', values['min-pass'], { min: 0, max: 1 }) ?? 0;
        const maxPass = numberFlag('max-pass', values['max-pass'], { min: 0, max: 1 }) ?? 1;
        if (minPass > maxPass) throw new UsageError(`--min-pass ${minPass} is above --max-pass ${maxPass}`);
        if ((values['model-config'] === undefined) !== (values.tokenizer === undefined)) throw new UsageError('--model-config and --tokenizer go together (the demo model and char tokenizer are used without both)');
        const temperature = numberFlag('temperature', values.temperature, { min: 0 });
        const policy = values['model-config'] !== undefined || values.tokenizer !== undefined ? await import('@acereason/policy') : undefined;
        const readJson = (flag: string, f: string): Record<string, unknown> => {
          try {
            return JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
          } catch (err) {
            throw new UsageError(`--${flag}: cannot read ${f}: ${err instanceof Error ? err.message : String(err)}`);
          }
        };
        sampler = await lib.EngineSampler.create({
          weightsPath: difficulty,
          ...(policy !== undefined && values['model-config'] !== undefined ? { model: policy.modelConfigFromHf(readJson('model-config', values['model-config'])) } : {}),
          ...(policy !== undefined && values.tokenizer !== undefined ? { tokenizer: policy.loadHfTokenizer(readJson('tokenizer', values.tokenizer)) } : {}),
          ...(temperature !== undefined ? { temperature } : {}),
          ...opt('maxNewTokens', numberFlag('max-new-tokens', values['max-new-tokens'], { integer: true, min: 1 })),
          ...(values['prompt-template'] !== undefined ? { promptTemplate: values['prompt-template'] } : {}),
          ...(seed !== undefined ? { seed } : {}),
        });
        options.difficulty = { k, minPass, maxPass, sampler, sink };
      }
      const { report } = await lib.curate(options);
      if (values.report !== undefined) writeFileSync(values.report, JSON.stringify(report, null, 2) + '\n');
      ctx.stdout.write(lib.formatReport(report));
      for (const e of report.errors) ctx.stderr.write(`${values.in}:${e.line}: ${e.message}\n`);
      return 0;
    } finally {
      if (sampler !== undefined) await sampler[Symbol.asyncDispose]();
      if (verifier !== undefined) await verifier.close();
      for (const c of closers) await c();
    }
  },
};

/** A PassRateSink over the pass-rate table in the cluster's KV bucket. */
class TableSink {
  constructor(private readonly table: PassRateTable, private readonly dataset: string, private readonly stage: string, readonly close: () => Promise<void>) {}

  async record(promptId: string, attempts: number, passes: number): Promise<void> {
    // One record per (stage, step): curating again with the same model replaces it.
    await this.table.record(this.dataset, [{ promptId, record: { stage: this.stage, step: 0, version: 0, attempts, passes } }]);
  }
}

async function openTableSink(url: string, dataset: string, stage: string): Promise<TableSink> {
  const { connectNats, drainQuietly, ensureTopology } = await import('@acereason/transport');
  const { PassRateTable } = await import('@acereason/learner');
  const nc = await connectNats({ servers: url, name: 'acereason-curate' });
  const topo = await ensureTopology(nc);
  return new TableSink(new PassRateTable(topo.passRates), dataset, stage, () => drainQuietly(nc));
}

function opt<K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> {
  return v === undefined ? {} : ({ [key]: v } as Partial<Record<K, number>>);
}

export default curate;
