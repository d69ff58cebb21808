/**
 * The actor process: `acereason actor --nats URL --run RUN_ID`. Joins a running learner's run at
 * any time (the run spec says which model and tokenizer; weights come from the learner over gRPC).
 */
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { createLogger, fetchRunAssets, requiredFlag, resolveSecurity, runService, securityFlags, SECURITY_USAGE } from '@acereason/transport';
import { tokenizerFromSpec } from '@acereason/policy';
import { Actor, waitForRunSpec } from './actor.js';
import { createRolloutEngine, ENGINE_FLAGS, ENGINE_USAGE } from './rollout-engine.js';

export const ACTOR_USAGE = `acereason actor --run RUN_ID [--nats URL] [--learner HOST:PORT] [--id NAME] [--threads N] [--max-in-flight N] [--execution-provider cpu|cuda] [--metrics-port PORT] ${ENGINE_USAGE} ${SECURITY_USAGE}`;

export async function actorMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      nats: { type: 'string' }, run: { type: 'string' }, learner: { type: 'string' }, id: { type: 'string' },
      threads: { type: 'string' }, 'max-in-flight': { type: 'string' }, 'execution-provider': { type: 'string' }, 'ack-wait-ms': { type: 'string' }, 'metrics-port': { type: 'string' },
      ...ENGINE_FLAGS,
      ...securityFlags,
    },
  });
  if (!values.run) throw requiredFlag('--run', ACTOR_USAGE);
  const runId = values.run;
  const actorId = values.id ?? `actor-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
  const logger = createLogger({ component: 'actor', bindings: { runId, actorId } });
  const security = resolveSecurity(values, 'actor');
  return runService({
    logger, nats: { servers: values.nats ?? 'nats://127.0.0.1:4222', name: actorId, ...security.nats },
    // With role credentials the actor may not create streams: the learner does.
    topology: security.authenticated ? { verifyOnly: true } : {},
    metrics: values['metrics-port'] === undefined ? undefined : { port: Number(values['metrics-port']), runId, role: 'actor', workerId: actorId, gauges: [
      { name: 'processed', help: 'task groups generated and published', pick: (h) => h.processed },
      { name: 'in_flight', help: 'messages held (in flight)', pick: (h) => h.inFlight },
      { name: 'throughput', help: 'generated tokens per second since start', pick: (h) => h.throughput },
      { name: 'policy_version', help: 'policy version of the weights held', pick: (h) => h.policyVersion },
    ] },
    async create({ nc, topology, signal }) {
      const spec = await waitForRunSpec(topology, runId, { signal });
      if (values.learner) spec.learnerAddress = values.learner;
      // Before joining: every asset the spec names, checked against its sha256 (a mismatch or a missing object ends the actor here).
      const files = await fetchRunAssets(topology.assets, spec.assets);
      const tokenizer = tokenizerFromSpec(spec.tokenizer, files);
      if (spec.assets !== undefined) logger.info({ assets: spec.assets.map((a) => `${a.name}:${a.bytes}`) }, 'run assets fetched and checked');
      const ackWaitMs = values['ack-wait-ms'] ? Number(values['ack-wait-ms']) : 30_000;
      const engine = await createRolloutEngine({
        spec, assets: files, flags: values, topology, actorId, executionProvider: values['execution-provider'] === 'cuda' ? 'cuda' : 'cpu', threads: Number(values.threads ?? 1), ackWaitMs, logger,
      });
      const actor = new Actor({
        nc, topology, spec, engine, tokenizer, actorId, logger,
        maxInFlight: Number(values['max-in-flight'] ?? 2), ...(security.grpcClientTls ? { grpcTls: security.grpcClientTls } : {}), ackWaitMs,
      });
      logger.info({ learner: spec.learnerAddress, ready: true }, 'actor ready');
      return {
        run: async () => {
          await actor.run();
          return 0;
        },
        stop: () => actor.stop(),
        close: () => engine.dispose(),
      };
    },
  });
}
