// The test kit: real servers and processes, all AsyncDisposable. The process launchers live in
// transport (the CLI uses them for local clusters too); they are re-exported here for tests.
export { freePort, spawnChild, ChildHandle, NatsServer, startNatsServer, natsServerVersion, natsServerBinary } from '@acereason/transport';
export type { ChildSettings, Exit, NatsServerSettings } from '@acereason/transport';
export * from './wait.js';
export * from './temp-dir.js';
export * from './cluster.js';
export * from './needs.js';
export * from './route-probe.js';
