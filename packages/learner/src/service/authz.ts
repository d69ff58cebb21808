/**
 * The learner's gRPC authorization: every call is checked against the role policy of transport
 * (grpc-policy.ts); a refusal is logged and counted (`acereason_grpc_denied_total{role,method}`).
 */
import { roleAuthorizer, type GrpcAuthorizer, type GrpcRoleMap, type Logger } from '@acereason/transport';

export function learnerAuthorizer(map: GrpcRoleMap, logger: Logger, count: (role: string, method: string) => void): GrpcAuthorizer {
  return roleAuthorizer({
    map,
    onDenied: (d) => {
      logger.warn({ role: d.role, method: d.method, peer: d.peer, identity: d.identity }, 'gRPC call refused: permission denied');
      count(d.role, d.method);
    },
  });
}
