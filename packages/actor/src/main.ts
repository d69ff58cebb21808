/**
 * The actor process: `acereason actor --nats URL --run RUN_ID`. Joins a running learner's run at
 * any time (the run spec says which model and tokenizer; weights come from the learner over gRPC).
 */
import { parseArgs } from 'node:util';
import { createServer, type Server } from 'node:http';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { codecs, Keys, type Heartbeat } from '@acereason/protocol';
import { hostname } from 'node:os';
import { connectNats, createLogger, drainQuietly, ensureTopology, onShutdown, resolveSecurity, securityFlags, SECURITY_USAGE, type Topology } from '@acereason/transport';
import { createOnnxEngine, tokenizerFromSpec, type ModelConfig } from '@acereason/policy';
import { Actor, waitForRunSpec } from './actor.js';

export const ACTOR_USAGE = `acereason actor --run RUN_ID [--nats URL] [--learner HOST:PORT] [--id NAME] [--threads N] [--max-in-flight N] [--execution-provider cpu|cuda] [--metrics-port PORT] ${SECURITY_USAGE}`;

export async function actorMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      nats: { type: 'string' }, run: { type: 'string' }, learner: { type: 'string' }, id: { type: 'string' },
      threads: { type: 'string' }, 'max-in-flight': { type: 'string' }, 'execution-provider': { type: 'string' }, 'ack-wait-ms': { type: 'string' }, 'metrics-port': { type: 'string' },
      ...securityFlags,
    },
  });
  if (!values.run) throw new Error(`--run is required\nusage: ${ACTOR_USAGE}`);
  const actorId = values.id ?? `actor-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
  const logger = createLogger({ component: 'actor', bindings: { runId: values.run, actorId } });
  const security = resolveSecurity(values, 'actor');
  const nc = await connectNats({ servers: values.nats ?? 'nats://127.0.0.1:4222', name: actorId, logger, ...security.nats });
  // With role credentials the actor may not create streams: the learner does.
  const topology = await ensureTopology(nc, security.authenticated ? { verifyOnly: true } : {});
  const metrics = values['metrics-port'] === undefined ? undefined : await serveMetrics(Number(values['metrics-port']), topology, values.run, actorId);
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
      maxInFlight: Number(values['max-in-flight'] ?? 2), ...(security.grpcClientTls ? { grpcTls: security.grpcClientTls } : {}), ...(values['ack-wait-ms'] ? { ackWaitMs: Number(values['ack-wait-ms']) } : {}),
    });
    if (ac.signal.aborted) actor.stop();
    logger.info({ learner: spec.learnerAddress, ready: true }, 'actor ready');
    await actor.run();
    await engine.dispose();
    return 0;
  } finally {
    off();
    metrics?.close();
    await drainQuietly(nc);
  }
}

/** Prometheus `/metrics` on `port`: this actor's counters, read from the heartbeat it publishes. */
async function serveMetrics(port: number, topology: Topology, runId: string, workerId: string): Promise<Server> {
  const registry = new Registry();
  registry.setDefaultLabels({ run_id: runId, role: 'actor', worker_id: workerId });
  collectDefaultMetrics({ register: registry, prefix: 'acereason_actor_' });
  const latest = async (): Promise<Heartbeat | undefined> => {
    const e = await topology.workers.get(Keys.worker(runId, 'actor', workerId)).catch(() => null);
    return e && e.operation === 'PUT' && e.length > 0 ? codecs.Heartbeat.decode(e.value) : undefined;
  };
  const gauge = (name: string, help: string, pick: (h: Heartbeat) => number | undefined): void => {
    new Gauge({ name: `acereason_actor_${name}`, help, registers: [registry], async collect() {
      const v = await latest().catch(() => undefined);
      const x = v ? pick(v) : undefined;
      if (x !== undefined) this.set(x);
    } });
  };
  gauge('processed', 'task groups generated and published', (h) => h.processed);
  gauge('in_flight', 'messages held (in flight)', (h) => h.inFlight);
  gauge('throughput', 'generated tokens per second since start', (h) => h.throughput);
  gauge('policy_version', 'policy version of the weights held', (h) => h.policyVersion);
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body), () => res.writeHead(500).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', resolve);
  });
  return server;
}
