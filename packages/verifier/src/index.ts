export * from './scorers.js';
export * from './worker.js';
export { verifierMain, VERIFIER_USAGE } from './main.js';
