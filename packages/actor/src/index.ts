export * from './actor.js';
export * from './weights.js';
