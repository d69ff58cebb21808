export * from './actor.js';
export * from './weights.js';
export { actorMain, ACTOR_USAGE } from './main.js';
