/** The verifier process: `acereason verifier --nats URL --run RUN_ID [--domain math|code|all]`. */
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import type { Domain } from '@acereason/protocol';
import { CommandLineError, createLogger, requiredFlag, resolveSecurity, runService, securityFlags, SECURITY_USAGE } from '@acereason/transport';
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
  if (!values.run) throw requiredFlag('--run', VERIFIER_USAGE);
  const runId = values.run;
  const domain = values.domain ?? 'all';
  if (!['math', 'code', 'all'].includes(domain)) throw new CommandLineError(`--domain: expected math, code or all, got "${domain}"`, VERIFIER_USAGE);
  const cacheMb = values['tests-cache-mb'] === undefined ? undefined : Number(values['tests-cache-mb']);
  if (cacheMb !== undefined && !(Number.isFinite(cacheMb) && cacheMb >= 0)) throw new CommandLineError(`--tests-cache-mb: expected a number of MB >= 0, got "${values['tests-cache-mb']}"`, VERIFIER_USAGE);
  const workerId = values.id ?? `verifier-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
  const logger = createLogger({ component: 'verifier', bindings: { runId, verifierId: workerId } });
  const security = resolveSecurity(values, 'verifier');
  return runService({
    logger, nats: { servers: values.nats ?? 'nats://127.0.0.1:4222', name: workerId, ...security.nats },
    // With role credentials the verifier may not create streams: the learner does.
    topology: security.authenticated ? { verifyOnly: true } : {},
    metrics: values['metrics-port'] === undefined ? undefined : { port: Number(values['metrics-port']), runId, role: 'verifier', workerId, gauges: [
      { name: 'processed', help: 'trajectory groups scored and published', pick: (h) => h.processed },
      { name: 'in_flight', help: 'messages held (in flight)', pick: (h) => h.inFlight },
      { name: 'throughput', help: 'responses scored per second since start', pick: (h) => h.throughput },
    ] },
    async create({ nc, topology }) {
      // The scorers (a math worker pool, the code sandbox) start once the command line and NATS are good; the worker closes them when it stops.
      const scorers: Partial<Record<Domain, Scorer>> = {};
      if (domain === 'math' || domain === 'all') scorers.math = mathScorer({ workers: Number(values['math-workers'] ?? 1), timeoutMs: Number(values['math-timeout-ms'] ?? 2000) });
      if (domain === 'code' || domain === 'all') scorers.code = codeScorer({ concurrency: Number(values.concurrency ?? 2), sandbox: values['unsafe-no-sandbox'] ? 'none-unsafe' : 'auto' });
      const worker = new VerifierWorker({ nc, topology, runId, workerId, scorers, logger, maxInFlight: Number(values.concurrency ?? 2), ...(values['ack-wait-ms'] ? { ackWaitMs: Number(values['ack-wait-ms']) } : {}), ...(cacheMb !== undefined ? { testsCacheBytes: Math.round(cacheMb * 2 ** 20) } : {}) });
      logger.info({ ready: true, domains: Object.keys(scorers) }, 'verifier ready');
      return {
        run: async () => {
          await worker.run();
          return 0;
        },
        stop: () => worker.stop(),
      };
    },
  });
}
