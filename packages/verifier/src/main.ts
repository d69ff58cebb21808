/** The verifier process: `acereason verifier --nats URL --run RUN_ID [--domain math|code|all]`. */
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import type { Domain } from '@acereason/protocol';
import { connectNats, createLogger, drainQuietly, ensureTopology, onShutdown, resolveSecurity, securityFlags, serveHeartbeatMetrics, SECURITY_USAGE } from '@acereason/transport';
import { codeScorer, mathScorer, type Scorer } from './scorers.js';
import { VerifierWorker } from './worker.js';

export const VERIFIER_USAGE = `acereason verifier --run RUN_ID [--nats URL] [--id NAME] [--domain math|code|all] [--concurrency N] [--math-workers N] [--math-timeout-ms MS] [--unsafe-no-sandbox] [--tests-cache-mb MB] [--metrics-port PORT] ${SECURITY_USAGE}`;

export async function verifierMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      nats: { type: 'string' }, run: { type: 'string' }, id: { type: 'string' }, domain: { type: 'string' }, concurrency: { type: 'string' },
      'math-workers': { type: 'string' }, 'math-timeout-ms': { type: 'string' }, 'unsafe-no-sandbox': { type: 'boolean' }, 'ack-wait-ms': { type: 'string' }, 'metrics-port': { type: 'string' }, 'tests-cache-mb': { type: 'string' },
      ...securityFlags,
    },
  });
  if (!values.run) throw new Error(`--run is required\nusage: ${VERIFIER_USAGE}`);
  const domain = values.domain ?? 'all';
  if (!['math', 'code', 'all'].includes(domain)) throw new Error(`--domain: expected math, code or all, got "${domain}"`);
  const cacheMb = values['tests-cache-mb'] === undefined ? undefined : Number(values['tests-cache-mb']);
  if (cacheMb !== undefined && !(Number.isFinite(cacheMb) && cacheMb >= 0)) throw new Error(`--tests-cache-mb: expected a number of MB >= 0, got "${values['tests-cache-mb']}"`);
  const workerId = values.id ?? `verifier-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
  const logger = createLogger({ component: 'verifier', bindings: { runId: values.run, verifierId: workerId } });
  const scorers: Partial<Record<Domain, Scorer>> = {};
  if (domain === 'math' || domain === 'all') scorers.math = mathScorer({ workers: Number(values['math-workers'] ?? 1), timeoutMs: Number(values['math-timeout-ms'] ?? 2000) });
  if (domain === 'code' || domain === 'all') scorers.code = codeScorer({ concurrency: Number(values.concurrency ?? 2), sandbox: values['unsafe-no-sandbox'] ? 'none-unsafe' : 'auto' });
  const security = resolveSecurity(values, 'verifier');
  const nc = await connectNats({ servers: values.nats ?? 'nats://127.0.0.1:4222', name: workerId, logger, ...security.nats });
  // With role credentials the verifier may not create streams: the learner does.
  const topology = await ensureTopology(nc, security.authenticated ? { verifyOnly: true } : {});
  const metrics = values['metrics-port'] === undefined ? undefined : await serveHeartbeatMetrics({ port: Number(values['metrics-port']), workers: topology.workers, runId: values.run, role: 'verifier', workerId: workerId, gauges: [
      { name: 'processed', help: 'trajectory groups scored and published', pick: (h) => h.processed },
      { name: 'in_flight', help: 'messages held (in flight)', pick: (h) => h.inFlight },
      { name: 'throughput', help: 'responses scored per second since start', pick: (h) => h.throughput },
    ] });
  const worker = new VerifierWorker({ nc, topology, runId: values.run, workerId, scorers, logger, maxInFlight: Number(values.concurrency ?? 2), ...(values['ack-wait-ms'] ? { ackWaitMs: Number(values['ack-wait-ms']) } : {}), ...(cacheMb !== undefined ? { testsCacheBytes: Math.round(cacheMb * 2 ** 20) } : {}) });
  const off = onShutdown(() => worker.stop(), logger);
  try {
    logger.info({ ready: true, domains: Object.keys(scorers) }, 'verifier ready');
    await worker.run();
    return 0;
  } finally {
    off();
    metrics?.close();
    await drainQuietly(nc);
  }
}
