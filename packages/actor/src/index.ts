export * from './actor.js';
export * from './weights.js';
export { actorMain, ACTOR_USAGE } from './main.js';
export { createRolloutEngine, embeddedRolloutEngine, openAIEngineOf, probeReader, ENGINE_FLAGS, ENGINE_USAGE, type EngineFlags } from './rollout-engine.js';
export { OpenAIRolloutEngine, type OpenAIEngineOptions } from './openai/openai-engine.js';
export { VersionDirs } from './openai/version-dir.js';
export { ServerError } from './openai/http.js';
export { dialectFor, acereasonDialect, vllmDialect, sglangDialect, fixedWeightsDialect } from './openai/dialects.js';
export type { Dialect } from './openai/dialect.js';
