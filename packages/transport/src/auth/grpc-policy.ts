/**
 * Which role may call which gRPC method of the learner. LearnerControl's reads (status, metrics)
 * are open to every role; what changes the run (pause, resume, advance stage, checkpoint) only to
 * the operator and the learner's own tools; weights only to those that load them (actors), the
 * learner and the operator. A method not listed here is refused to everyone.
 */
import { LearnerControlDefinition, WeightServiceDefinition } from '@acereason/protocol';
import { ROLES, type Role } from './permissions.js';

export type GrpcMethodPolicy = Readonly<Record<string, readonly Role[]>>;

const CONTROL: readonly Role[] = ['operator', 'learner'];
const WEIGHTS: readonly Role[] = ['actor', 'learner', 'operator'];

export const LEARNER_GRPC_POLICY: GrpcMethodPolicy = {
  [LearnerControlDefinition.getStatus.path]: ROLES,
  [LearnerControlDefinition.streamMetrics.path]: ROLES,
  [LearnerControlDefinition.pause.path]: CONTROL,
  [LearnerControlDefinition.resume.path]: CONTROL,
  [LearnerControlDefinition.advanceStage.path]: CONTROL,
  [LearnerControlDefinition.checkpoint.path]: CONTROL,
  [WeightServiceDefinition.getManifest.path]: WEIGHTS,
  [WeightServiceDefinition.streamWeights.path]: WEIGHTS,
};
