/**
 * The actor process: `acereason actor --nats URL --run RUN_ID`. Joins a running learner's run at
 * any time (the run spec says which model and tokenizer; weights come from the learner over gRPC).
 */
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { connectNats, createLogger, drainQuietly, ensureTopology, onShutdown } from '@acereason/transport';
import { createOnnxEngine, tokenizerFromSpec, type ModelConfig } from '@acereason/policy';
import { Actor, waitForRunSpec } from './actor.js';

export const ACTOR_USAGE = 'acereason actor --run RUN_ID [--nats URL] [--learner HOST:PORT] [--id NAME] [--threads N] [--max-in-flight N] [--execution-provider cpu|cuda]';

export async function actorMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      nats: { type: 'string' }, run: { type: 'string' }, learner: { type: 'string' }, id: { type: 'string' },
      threads: { type: 'string' }, 'max-in-flight': { type: 'string' }, 'execution-provider': { type: 'string' }, 'ack-wait-ms': { type: 'string' },
    },
  });
  if (!values.run) throw new Error(`--run is required\nusage: ${ACTOR_USAGE}`);
  const actorId = values.id ?? `actor-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
  const logger = createLogger({ component: 'actor', bindings: { runId: values.run, actorId } });
  const nc = await connectNats({ servers: values.nats ?? 'nats://127.0.0.1:4222', name: actorId, logger });
  const topology = await ensureTopology(nc);
  const ac = new AbortController();
  let actor: Actor | undefined;
  const off = onShutdown(() => {
    ac.abort();
    actor?.stop();
  }, logger);
  try {
    const spec = await waitForRunSpec(topology, values.run, { signal: ac.signal });
    if (values.learner) spec.learnerAddress = values.learner;
    const ep = values['execution-provider'] === 'cuda' ? 'cuda' : 'cpu';
    const engine = await createOnnxEngine({ model: spec.model as ModelConfig, executionProvider: ep, threads: Number(values.threads ?? 1) });
    actor = new Actor({
      nc, topology, spec, engine, tokenizer: tokenizerFromSpec(spec.tokenizer), actorId, logger,
      maxInFlight: Number(values['max-in-flight'] ?? 2), ...(values['ack-wait-ms'] ? { ackWaitMs: Number(values['ack-wait-ms']) } : {}),
    });
    if (ac.signal.aborted) actor.stop();
    logger.info({ learner: spec.learnerAddress, ready: true }, 'actor ready');
    await actor.run();
    await engine.dispose();
    return 0;
  } finally {
    off();
    await drainQuietly(nc);
  }
}
