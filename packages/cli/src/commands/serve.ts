/**
 * `acereason serve --model DIR | --checkpoint DIR`: an OpenAI-compatible HTTP server over the
 * embedded engine (see packages/serve). Runs until SIGTERM / SIGINT.
 */
import { existsSync } from 'node:fs';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';

const USAGE = 'acereason serve --model DIR | --checkpoint DIR [--host H] [--port P] [--api-key-env NAME] [--name NAME] [--threads N] [--max-batch N] [--generation-dtype float32|float16]';

export const serve: Command = {
  name: 'serve',
  summary: 'an OpenAI-compatible HTTP server over the embedded engine',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, {
      model: { type: 'string' }, checkpoint: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' },
      'api-key-env': { type: 'string' }, name: { type: 'string' }, threads: { type: 'string' }, 'max-batch': { type: 'string' }, 'generation-dtype': { type: 'string' },
    }, USAGE);
    const dir = values.model ?? values.checkpoint;
    if ((values.model === undefined) === (values.checkpoint === undefined)) throw new UsageError('give exactly one of --model and --checkpoint', `usage: ${USAGE}`);
    if (!dir || !existsSync(dir)) throw new UsageError(`${values.model !== undefined ? '--model' : '--checkpoint'}: ${dir ?? ''} does not exist`, 'Pass a Hugging Face model directory (config.json, safetensors, tokenizer files) or a checkpoints folder.');
    const port = numberFlag('--port', values.port, { integer: true, min: 0, max: 65535 }, USAGE) ?? 8000;
    const threads = numberFlag('--threads', values.threads, { integer: true, min: 0, max: 256 }, USAGE) ?? 0;
    const maxBatch = numberFlag('--max-batch', values['max-batch'], { integer: true, min: 1, max: 4096 }, USAGE) ?? 64;
    const generationDtype = values['generation-dtype'] ?? 'float32';
    if (generationDtype === 'bfloat16') throw new UsageError('--generation-dtype: bfloat16 is not supported (ONNX Runtime\'s CPU provider has no bfloat16 kernels for the generation graphs, and onnxruntime-node cannot feed bfloat16 tensors)', 'Use float16 or float32.');
    if (generationDtype !== 'float32' && generationDtype !== 'float16') throw new UsageError(`--generation-dtype: expected float32 or float16, got "${generationDtype}"`, `usage: ${USAGE}`);
    let apiKey: string | undefined;
    if (values['api-key-env'] !== undefined) {
      apiKey = process.env[values['api-key-env']];
      if (!apiKey) throw new UsageError(`--api-key-env: the environment variable ${values['api-key-env']} is not set or empty`, 'Export the key in that variable, or leave out --api-key-env to serve without a key.');
    }
    const { loadServedModel, startServe } = await import('@acereason/serve');
    const { createLogger, runProcess } = await import('@acereason/transport');
    const logger = createLogger({ component: 'serve', destination: process.stderr });
    let model: Awaited<ReturnType<typeof loadServedModel>>;
    try {
      model = await loadServedModel(dir, { ...(values.name ? { name: values.name } : {}), threads, generationDtype });
    } catch (err) {
      throw new UsageError(`${dir}: ${(err as Error).message}`, 'Pass a Hugging Face model directory (config.json, safetensors, tokenizer.json).');
    }
    // The process's shutdown like every service's: the first SIGTERM/SIGINT closes the server, a second exits at once.
    return runProcess({
      logger,
      async create() {
        let stopped: () => void = () => undefined;
        const untilStopped = new Promise<void>((resolve) => (stopped = resolve));
        const server = await startServe({ model, host: values.host ?? '127.0.0.1', port, maxBatch, ...(apiKey ? { apiKey } : {}), logger }).catch(async (err: unknown) => {
          await model.engine.dispose();
          throw err;
        });
        ctx.stdout.write(`serving ${model.name} (version ${model.held.version}) at ${server.url}/v1\n`);
        return {
          run: async () => {
            await untilStopped;
            return 0;
          },
          stop: () => stopped(),
          close: async () => {
            await server.close();
            await model.engine.dispose();
          },
        };
      },
    });
  },
};
