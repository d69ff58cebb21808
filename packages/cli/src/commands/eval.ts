/**
 * `acereason eval --checkpoint C | --model DIR | --endpoint URL --data D --k K`: samples responses
 * from a checkpoint's (or a Hugging Face directory's) weights with the embedded engine, or from any
 * OpenAI-compatible server (token ids in and out, the run's tokenizer), verifies them with the run's verifiers (math or code) and
 * prints avg@k and pass@k per domain.
 */
import type { Domain } from '@acereason/protocol';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { scoreByDomain, type PromptOutcome } from '../eval/pass-at-k.js';
import { endpointEngine } from '../eval/endpoint-engine.js';
import { loadEvalModel } from '../eval/eval-model.js';
import { readEvalData } from '../eval/eval-data.js';

const USAGE = 'acereason eval --checkpoint DIR|FILE.safetensors | --model DIR | --endpoint URL [--model NAME] [--endpoint-api openai|acereason|sglang] [--api-key-env NAME] --data FILE.jsonl --k K [--n N] [--max-tokens N] [--temperature T] [--top-p P] [--config run.yaml] [--prompt-template T] [--limit N] [--decimal-comma] [--seed S] [--threads N] [--json]';


export const evaluate: Command = {
  name: 'eval',
  summary: 'avg@k and pass@k of a checkpoint on a dataset, per domain',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, {
      checkpoint: { type: 'string' }, data: { type: 'string' }, k: { type: 'string' }, n: { type: 'string' }, 'max-tokens': { type: 'string' },
      temperature: { type: 'string' }, 'top-p': { type: 'string' }, config: { type: 'string' }, 'prompt-template': { type: 'string' },
      limit: { type: 'string' }, 'decimal-comma': { type: 'boolean' }, seed: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' },
      endpoint: { type: 'string' }, model: { type: 'string' }, 'endpoint-api': { type: 'string' }, 'api-key-env': { type: 'string' },
    }, USAGE);
    // With --endpoint, --model names the served model; otherwise it is a Hugging Face directory.
    const modelDir = values.endpoint === undefined ? values.model : undefined;
    if ([values.checkpoint, modelDir, values.endpoint].filter((v) => v !== undefined).length !== 1) throw new UsageError('give exactly one of --checkpoint and --endpoint (or --model DIR for a Hugging Face directory)', `usage: ${USAGE}`);
    if (!values.data || !values.k) throw new UsageError('--data and --k are required', `usage: ${USAGE}`);
    const k = (numberFlag('--k', values.k, { integer: true, min: 1, max: 1024 }, USAGE) ?? 1);
    const n = (numberFlag('--n', values.n, { integer: true, min: k, max: 1024 }, USAGE) ?? k);
    const maxTokens = (numberFlag('--max-tokens', values['max-tokens'], { integer: true, min: 1 }, USAGE) ?? 256);
    const temperature = (numberFlag('--temperature', values.temperature, { min: 0 }, USAGE) ?? 0.6);
    const topP = (numberFlag('--top-p', values['top-p'], { min: 0.001, max: 1 }, USAGE) ?? 1);
    const seed = (numberFlag('--seed', values.seed, { integer: true, min: 0 }, USAGE) ?? 1);
    const limit = (numberFlag('--limit', values.limit, { integer: true, min: 1 }, USAGE) ?? Infinity);
    // The data first: a bad row is reported before any model is loaded.
    const prompts = await readEvalData(values.data, { limit, decimalComma: values['decimal-comma'] === true });

    const learner = await import('@acereason/learner');
    const policy = await import('@acereason/policy');
    let config;
    if (values.config) {
      try {
        config = learner.loadRunConfig(values.config);
      } catch (err) {
        throw new UsageError((err as Error).message, `Fix ${values.config} or leave out --config (the checkpoint's own files are used then).`);
      }
    }
    const m = await loadEvalModel({
      ...(values.checkpoint !== undefined ? { checkpoint: values.checkpoint } : {}), ...(modelDir !== undefined ? { model: modelDir } : {}),
      ...(config ? { config } : {}), ...(values['prompt-template'] !== undefined ? { promptTemplate: values['prompt-template'] } : {}),
    });
    const { tokenizer, stopTokens } = m;
    const weightsPath = m.weights === undefined ? undefined : m.source;

    const threads = numberFlag('--threads', values.threads, { integer: true, min: 1 }, USAGE) ?? 1;
    const engine: import('@acereason/policy').RolloutEngine = weightsPath !== undefined
      ? await policy.createOnnxEngine({ model: m.model, weights: m.weights as Uint8Array | import('@acereason/policy').NamedTensor[], adoptWeights: !(m.weights instanceof Uint8Array), inferenceOnly: true, threads })
      : await endpointEngine({ url: values.endpoint as string, model: values.model, api: values['endpoint-api'], apiKeyEnv: values['api-key-env'] });
    const source = weightsPath ?? (values.endpoint as string);
    const { mathScorer, codeScorer } = await import('@acereason/verifier');
    const scorers: Partial<Record<Domain, import('@acereason/verifier').Scorer>> = {};
    const t0 = performance.now();
    const outcomes: (PromptOutcome & { id: string })[] = [];
    try {
      const chunk = Math.max(1, Math.floor(64 / n));
      for (let i = 0; i < prompts.length; i += chunk) {
        const part = prompts.slice(i, i + chunk);
        const samples = await engine.generate(part.map((p, j) => ({
          sampleKey: String(i + j), promptTokens: learner.encodeDatasetPrompt(m.prompts[p.reference.type], m, p.problem), numSamples: n,
          sampling: { temperature, topP, topK: 0, maxNewTokens: maxTokens, stopTokens }, seed: seed * 1_000_003 + i + j,
        })));
        for (const [j, p] of part.entries()) {
          const domain = p.reference.type;
          const scorer = (scorers[domain] ??= domain === 'math' ? mathScorer() : codeScorer());
          const mine = samples.filter((s) => s.sampleKey === String(i + j));
          const reference = learner.checkableReference(p);
          const verdicts = await Promise.all(mine.map((s) => scorer.score(tokenizer.decode(s.tokens.filter((t) => !stopTokens.includes(t))), reference)));
          outcomes.push({ id: p.id, domain, n: mine.length, correct: verdicts.filter((v) => v.correct).length });
        }
      }
    } finally {
      await engine.dispose();
      await Promise.all(Object.values(scorers).map((s) => s.close()));
    }
    const scores = scoreByDomain(outcomes, k);
    const seconds = (performance.now() - t0) / 1000;
    if (values.json) ctx.stdout.write(JSON.stringify({ ...(weightsPath !== undefined ? { checkpoint: weightsPath } : { endpoint: values.endpoint }), data: values.data, k, n, temperature, maxTokens, seconds, domains: scores, prompts: outcomes }) + '\n');
    else {
      ctx.stdout.write(`${source} on ${values.data}: ${prompts.length} prompts x ${n} samples, temperature ${temperature}, ${seconds.toFixed(1)} s\n`);
      for (const s of scores) ctx.stdout.write(`  ${s.domain.padEnd(5)} prompts=${s.prompts}  avg@${k}=${s.avgAtK.toFixed(4)}  pass@${k}=${s.passAtK.toFixed(4)}  pass@1=${s.pass1.toFixed(4)}\n`);
    }
    return 0;
  },
};
