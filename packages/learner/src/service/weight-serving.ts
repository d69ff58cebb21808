/**
 * Where the learner serves weight bytes in bulk: next to its gRPC server, on the same interface,
 * at the gRPC port + 1 (a free port when gRPC binds port 0), reachable under the host actors
 * reach gRPC by, with gRPC's TLS and authorization. Manifests from WeightService carry the URL.
 */
import { hostname } from 'node:os';
import { startWeightBulkServer, type GrpcAuthorizer, type RunningWeightBulkServer, type TlsFiles, type WeightStore } from '@acereason/transport';

function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

export async function startLearnerWeightBulk(store: WeightStore, grpcBind: string, grpcAdvertise: string | undefined, tls: TlsFiles | undefined, authorize: GrpcAuthorizer | undefined): Promise<RunningWeightBulkServer> {
  const bind = splitHostPort(grpcBind);
  const wildcard = bind.host === '0.0.0.0' || bind.host === '' || bind.host === '::';
  const advertiseHost = grpcAdvertise ? splitHostPort(grpcAdvertise).host : wildcard ? hostname() : bind.host;
  return startWeightBulkServer({
    store, host: bind.host === '' ? '0.0.0.0' : bind.host, port: bind.port === 0 ? 0 : bind.port + 1, advertiseHost,
    ...(tls ? { tls } : {}), ...(authorize ? { authorize } : {}),
  });
}
