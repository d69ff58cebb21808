/** `acereason up`: a local cluster in the background; `acereason down` stops it. */
import { SECURITY_USAGE, securityFlags } from '@acereason/transport';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { findStateFile, readClusterState, writeClusterState } from '../local/cluster-state.js';
import { planClusterSecurity } from '../local/cluster-security.js';
import { startDetachedCluster } from '../local/detached-cluster.js';
import { isAlive } from '../local/processes.js';

const USAGE = `acereason up --config run.yaml [--actors N] [--verifiers M] [--nats-cluster 3] [--insecure | --nats URL[,URL...] [${SECURITY_USAGE}]] [--metrics-port PORT] [--fresh] [--learner-args "..."] [--actor-args "..."] [--verifier-args "..."] [--json]`;


const words = (v: string | undefined): string[] => (v ?? '').split(/\s+/).filter(Boolean);

export const up: Command = {
  name: 'up',
  summary: 'start a local cluster in the background (nats-server, learner, actors, verifiers)',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, {
      config: { type: 'string' }, actors: { type: 'string' }, verifiers: { type: 'string' }, nats: { type: 'string' },
      'metrics-port': { type: 'string' }, fresh: { type: 'boolean' }, json: { type: 'boolean' },
      'learner-args': { type: 'string' }, 'actor-args': { type: 'string' }, 'verifier-args': { type: 'string' },
      insecure: { type: 'boolean' }, 'nats-cluster': { type: 'string' }, ...securityFlags,
    }, USAGE);
    if (!values.config) throw new UsageError('--config is required', `usage: ${USAGE}`);
    const existing = findStateFile();
    if (existing) {
      const s = readClusterState(existing);
      if (s.services.some((p) => p.role === 'learner' && isAlive(p.pid))) {
        throw new UsageError(`a cluster for run "${s.runId}" is already running from this directory`, 'Stop it with `acereason down` first (or `acereason status` to look at it).');
      }
    }
    const { loadRunConfig } = await import('@acereason/learner');
    let config;
    try {
      config = loadRunConfig(values.config);
    } catch (err) {
      throw new UsageError((err as Error).message, `Fix ${values.config} and run \`acereason up\` again.`);
    }
    const metricsPort = values['metrics-port'] === undefined ? undefined : (numberFlag('--metrics-port', values['metrics-port'], { integer: true, min: 0, max: 65_000 }, USAGE) ?? 0);
    const natsNodes = numberFlag('--nats-cluster', values['nats-cluster'], { integer: true, min: 1, max: 7 }, USAGE) ?? 1;
    if (natsNodes > 1 && values.nats !== undefined) throw new UsageError('--nats-cluster starts its own nats-servers: it does not go with --nats URL', 'Drop one of them (--nats URL,URL,URL names an existing cluster).');
    if (natsNodes % 2 === 0) throw new UsageError(`--nats-cluster ${natsNodes}: a JetStream cluster needs an odd number of nodes (3 survives the loss of one)`, `usage: ${USAGE}`);
    const security = planClusterSecurity({ insecure: values.insecure === true, externalNats: values.nats !== undefined, outDir: config.outDir, flags: values });
    const started = await startDetachedCluster({
      configPath: values.config, runId: config.runId, outDir: config.outDir,
      actors: (numberFlag('--actors', values.actors, { integer: true, min: 0, max: 256 }, USAGE) ?? 1), verifiers: (numberFlag('--verifiers', values.verifiers, { integer: true, min: 0, max: 256 }, USAGE) ?? 1),
      ...(values.nats ? { natsUrl: values.nats } : {}),
      natsNodes,
      ...(security.natsExtraConfig !== undefined ? { natsExtraConfig: security.natsExtraConfig } : {}),
      ...(security.natsRouteConfig !== undefined ? { natsRouteConfig: security.natsRouteConfig } : {}),
      securityArgs: security.args,
      ...(metricsPort !== undefined ? { metricsPort } : {}),
      learnerArgs: [...(values.fresh ? ['--fresh'] : []), ...words(values['learner-args'])],
      actorArgs: words(values['actor-args']), verifierArgs: words(values['verifier-args']),
    });
    const state = { ...started, ...security.state };
    const file = writeClusterState(state);
    if (values.json) ctx.stdout.write(JSON.stringify({ ...state, stateFile: file }) + '\n');
    else {
      const workers = state.services.filter((s) => s.role === 'actor' || s.role === 'verifier').length;
      ctx.stdout.write([
        `run ${state.runId} is up: learner at ${state.learnerAddress}, NATS at ${state.natsUrl}${state.natsManaged ? (natsNodes > 1 ? ` (${natsNodes} clustered nodes started here)` : ' (started here)') : ''}, ${workers} workers`,
        state.certDir ? `security: TLS and a NATS user per role${natsNodes > 1 ? ', routes over TLS with the route certificate' : ''}, certificates in ${state.certDir}` : `security: ${state.operatorSecurity ? 'the --creds/--tls-* flags given' : 'none (no auth, no TLS)'}`,
        `logs: ${state.logDir}   state: ${file}`,
        'next: `acereason status --watch`, `acereason logs learner`, `acereason down`',
      ].join('\n') + '\n');
    }
    return 0;
  },
};
