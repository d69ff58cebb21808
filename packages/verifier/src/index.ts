export * from './scorers.js';
export * from './worker.js';
