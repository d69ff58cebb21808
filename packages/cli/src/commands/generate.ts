/**
 * `acereason generate --model DIR (--prompt TEXT | --prompt-ids 1,2,3)`: a smoke test of any Hugging
 * Face model directory or checkpoint with the embedded engine. `--json` prints one object:
 * prompt_ids, ids (generated), logprobs (of each generated token under the untempered
 * distribution), text, finish_reason (stop | length).
 */
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';

const USAGE = 'acereason generate --model DIR (--prompt TEXT | --prompt-ids 1,2,3) [--chat] [--system TEXT] [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S] [--stop STRING]... [--threads N] [--json]';

function parseIds(s: string, vocab: number): Uint32Array {
  const parts = s.split(',').map((x) => x.trim());
  const ids = parts.map(Number);
  const bad = parts.findIndex((x, i) => x === '' || !Number.isInteger(ids[i]) || (ids[i] as number) < 0 || (ids[i] as number) >= vocab);
  if (bad >= 0 || ids.length === 0) throw new UsageError(`--prompt-ids: expected comma-separated token ids below the vocabulary size ${vocab}, got "${parts[bad] ?? s}"`, `usage: ${USAGE}`);
  return Uint32Array.from(ids);
}

export const generate: Command = {
  name: 'generate',
  summary: 'generate from a Hugging Face model directory or checkpoint (a smoke test)',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, {
      model: { type: 'string' }, prompt: { type: 'string' }, 'prompt-ids': { type: 'string' }, chat: { type: 'boolean' }, system: { type: 'string' },
      'max-tokens': { type: 'string' }, temperature: { type: 'string' }, 'top-p': { type: 'string' }, 'top-k': { type: 'string' }, seed: { type: 'string' },
      stop: { type: 'string', multiple: true }, threads: { type: 'string' }, json: { type: 'boolean' },
    }, USAGE);
    if (values.model === undefined) throw new UsageError('--model DIR is required', `usage: ${USAGE}`);
    if ((values.prompt === undefined) === (values['prompt-ids'] === undefined)) throw new UsageError('give exactly one of --prompt TEXT and --prompt-ids 1,2,3', `usage: ${USAGE}`);
    if (values.chat === true && values.prompt === undefined) throw new UsageError('--chat needs --prompt TEXT (the text goes through the chat template)', `usage: ${USAGE}`);
    const maxTokens = numberFlag('--max-tokens', values['max-tokens'], { integer: true, min: 1 }, USAGE) ?? 64;
    const temperature = numberFlag('--temperature', values.temperature, { min: 0 }, USAGE) ?? 0;
    const topP = numberFlag('--top-p', values['top-p'], { min: 0.001, max: 1 }, USAGE) ?? 1;
    const topK = numberFlag('--top-k', values['top-k'], { integer: true, min: 0 }, USAGE) ?? 0;
    const seed = numberFlag('--seed', values.seed, { integer: true, min: 0 }, USAGE) ?? 0;
    const threads = numberFlag('--threads', values.threads, { integer: true, min: 0 }, USAGE) ?? 0;

    const policy = await import('@acereason/policy');
    const hf = policy.loadHfModelDir(values.model);
    const tok = hf.assets.tokenizerJson === undefined ? undefined : policy.modelTokenizerFromAssets(hf.assets, values.model, hf.model.vocabSize);
    let promptIds: Uint32Array;
    if (values.prompt !== undefined) {
      if (tok === undefined) throw new UsageError(`--prompt: ${values.model} has no tokenizer.json`, 'Use --prompt-ids, or add the tokenizer files to the directory.');
      const format = { mode: values.chat === true ? 'chat' as const : 'raw' as const, ...(values.system === undefined ? {} : { system: values.system }) };
      promptIds = policy.encodePrompt(tok, format, values.prompt);
    } else promptIds = parseIds(values['prompt-ids'] as string, hf.model.vocabSize);
    const gcEos = hf.assets.generationConfig?.eos_token_id;
    const stopTokens = tok !== undefined ? [...tok.stopTokenIds] : (Array.isArray(gcEos) ? gcEos : gcEos === undefined ? [] : [gcEos]).filter((x): x is number => Number.isInteger(x));
    const stops = values.stop ?? [];
    if (stops.length > 0 && tok === undefined) throw new UsageError(`--stop: ${values.model} has no tokenizer.json to decode with`);

    const engine = await policy.createOnnxEngine({ model: hf.model, weights: hf.weights, adoptWeights: true, inferenceOnly: true, threads, maxBatch: 1 });
    try {
      const [out] = await engine.generate([{
        sampleKey: 'generate', promptTokens: promptIds, numSamples: 1, seed,
        sampling: { temperature, topP, topK, maxNewTokens: maxTokens, stopTokens },
        ...(stops.length > 0 && tok !== undefined ? { stopWhen: policy.stopStringChecker(tok.tokenizer, stops, '--stop') } : {}),
      }]);
      if (out === undefined) throw new Error('no sample');
      // Temperature 0 reports the untempered distribution already; otherwise score it at temperature 1.
      let logprobs = Array.from(out.logprobs);
      if (temperature !== 0 && out.tokens.length > 0) {
        const [s] = await engine.score([{ tokens: Uint32Array.from([...promptIds, ...out.tokens]), scoreFrom: promptIds.length }], 1);
        logprobs = Array.from(s?.logprobs ?? []);
      }
      const text = tok === undefined ? null : tok.tokenizer.decode(out.tokens);
      if (values.json === true) {
        ctx.stdout.write(`${JSON.stringify({ prompt_ids: Array.from(promptIds), ids: Array.from(out.tokens), logprobs, text, finish_reason: out.finishReason })}\n`);
      } else {
        ctx.stdout.write(`${text ?? Array.from(out.tokens).join(',')}\n`);
        ctx.stderr.write(`[${out.tokens.length} tokens, finish_reason ${out.finishReason}]\n`);
      }
      return 0;
    } finally {
      await engine.dispose();
    }
  },
};
