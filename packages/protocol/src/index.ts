export * from './errors.js';
export * from './bench.js';
export * as schema from './schema.js';
export type { Schema, Infer } from './schema.js';
export * from './messages.js';
export * from './codec.js';
export * from './subjects.js';
export * from './gen/acereason_v1.js';
export * from './examples.js';
