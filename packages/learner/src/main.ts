/**
 * The learner process: `acereason run --config run.yaml` (or this package's bin).
 * Resumes from the latest checkpoint in the run folder unless --fresh.
 */
import { parseArgs } from 'node:util';
import { CommandLineError, createLogger, readGrpcRoleMap, requiredFlag, resolveSecurity, runService, securityFlags, SECURITY_USAGE, type GrpcRoleMap, type TlsFiles } from '@acereason/transport';
import { loadRunConfig } from './config/run-file.js';
import { scoredRoomWarning } from './config/streams.js';
import { Learner } from './learner.js';
import { checkDatasetPrompts, createLearnerEngine, loadDatasets, tokenizerFor } from './setup.js';

export const LEARNER_USAGE = `acereason run --config FILE [--nats URL] [--grpc-bind HOST:PORT] [--grpc-advertise HOST:PORT] [--out DIR] [--fresh] [--max-steps N] ${SECURITY_USAGE} [--grpc-tls-cert FILE --grpc-tls-key FILE [--grpc-client-auth] [--grpc-roles FILE] [--grpc-tokens FILE]]`;

export async function learnerMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      config: { type: 'string' }, nats: { type: 'string' }, 'grpc-bind': { type: 'string' }, 'grpc-advertise': { type: 'string' },
      out: { type: 'string' }, fresh: { type: 'boolean' }, 'max-steps': { type: 'string' }, 'metrics-port': { type: 'string' },
      ...securityFlags, 'grpc-tls-cert': { type: 'string' }, 'grpc-tls-key': { type: 'string' }, 'grpc-client-auth': { type: 'boolean' },
      'grpc-roles': { type: 'string' }, 'grpc-tokens': { type: 'string' },
    },
  });
  if (!values.config) throw requiredFlag('--config', LEARNER_USAGE);
  const config = loadRunConfig(values.config, (raw) => {
    const cluster = ((raw.cluster ??= {}) as Record<string, unknown>);
    if (values.nats) cluster.nats = values.nats;
    if (values['grpc-bind']) cluster.grpc_bind = values['grpc-bind'];
    if (values['grpc-advertise']) cluster.grpc_advertise = values['grpc-advertise'];
    if (values['metrics-port']) cluster.metrics_port = Number(values['metrics-port']);
    if (values.out) ((raw.run ??= {}) as Record<string, unknown>).out_dir = values.out;
  });
  const security = resolveSecurity(values, 'learner');
  const grpcTls = learnerGrpcTls(values);
  const grpcRoles = learnerGrpcRoles(values, grpcTls);
  const logger = createLogger({ component: 'learner', bindings: { runId: config.runId } });
  if (!grpcRoles) logger.warn('gRPC without client authentication (no --grpc-client-auth, no --grpc-tokens): every caller may pause, advance and checkpoint the run');
  const datasets = loadDatasets(config);
  const runTokenizer = tokenizerFor(config);
  checkDatasetPrompts(config, runTokenizer);
  const { tokenizer, chatTemplate, spec, files } = runTokenizer;
  const { engine, resume, resumeReadSeconds } = await createLearnerEngine(config, { fresh: values.fresh === true });
  if (resume) logger.info({ dir: resume.dir, step: resume.state.step, version: resume.state.version, readSeconds: +(resumeReadSeconds ?? 0).toFixed(3) }, 'checkpoint loaded');
  const maxSteps = values['max-steps'] === undefined ? undefined : Number(values['max-steps']);
  const scoredRoom = scoredRoomWarning(config);
  if (scoredRoom) logger.warn(scoredRoom);
  try {
    return await runService({
      logger, nats: { servers: config.cluster.nats, name: `learner-${config.runId}`, ...security.nats },
      // The learner owns the topology: it creates the streams and buckets, with the run's replicas and limits.
      topology: { owner: true, replicas: config.streams.replicas, limits: config.streams.limits, logger },
      async create({ nc, topology }) {
        const learner = new Learner({ config, nc, topology, engine, tokenizer, ...(chatTemplate ? { chatTemplate } : {}), tokenizerSpec: spec, assetFiles: files, datasets, logger, ...(grpcTls ? { grpcTls } : {}), ...(grpcRoles ? { grpcRoles } : {}), ...(resume ? { resume } : {}), ...(maxSteps !== undefined ? { maxStepsThisRun: maxSteps } : {}) });
        return {
          run: async () => {
            await learner.start();
            // Tests and the CLI read this line to find the learner.
            logger.info({ address: learner.grpcAddress, ready: true }, 'learner ready');
            await learner.run();
            logger.info({ phase: learner.phase, step: learner.learnerState.step, consumedGroups: learner.learnerState.consumedGroups, counts: learner.collectorCounts }, `learner ${learner.phase}`);
            return learner.phase === 'failed' ? 1 : 0;
          },
          stop: () => learner.stop(),
          close: () => learner.close(),
        };
      },
    });
  } finally {
    await engine.dispose();
  }
}

/** The gRPC server's TLS: the server certificate, and with --grpc-client-auth the CA client certificates must chain to. */
function learnerGrpcTls(v: { 'grpc-tls-cert'?: string | undefined; 'grpc-tls-key'?: string | undefined; 'grpc-client-auth'?: boolean | undefined; 'tls-ca'?: string | undefined }): TlsFiles | undefined {
  const cert = v['grpc-tls-cert'];
  const key = v['grpc-tls-key'];
  if (cert === undefined && key === undefined) {
    if (v['grpc-client-auth']) throw new CommandLineError('--grpc-client-auth needs --grpc-tls-cert and --grpc-tls-key', LEARNER_USAGE);
    return undefined;
  }
  if (cert === undefined || key === undefined) throw new CommandLineError('--grpc-tls-cert and --grpc-tls-key go together', LEARNER_USAGE);
  if (!v['grpc-client-auth']) return { cert, key };
  if (v['tls-ca'] === undefined) throw new CommandLineError('--grpc-client-auth needs --tls-ca (the CA client certificates must chain to)', LEARNER_USAGE);
  return { cert, key, ca: v['tls-ca'] };
}

/**
 * Role authorization of the gRPC methods, on whenever callers can be identified: by client
 * certificate (--grpc-client-auth; --grpc-roles maps subjects to roles, default CN = role name)
 * or by bearer token (--grpc-tokens, over TLS only).
 */
function learnerGrpcRoles(v: { 'grpc-roles'?: string | undefined; 'grpc-tokens'?: string | undefined; 'grpc-client-auth'?: boolean | undefined }, tls: TlsFiles | undefined): GrpcRoleMap | undefined {
  if (v['grpc-tokens'] !== undefined && tls === undefined) throw new CommandLineError('--grpc-tokens needs --grpc-tls-cert and --grpc-tls-key (bearer tokens never travel in plaintext)', LEARNER_USAGE);
  if (v['grpc-roles'] !== undefined && !v['grpc-client-auth']) throw new CommandLineError('--grpc-roles maps client certificates: it needs --grpc-client-auth', LEARNER_USAGE);
  if (!v['grpc-client-auth'] && v['grpc-tokens'] === undefined) return undefined;
  return readGrpcRoleMap({ rolesFile: v['grpc-roles'], tokensFile: v['grpc-tokens'] });
}
