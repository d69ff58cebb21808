export { startServe, type ServeOptions, type RunningServe } from './server.js';
export { loadServedModel, reloadWeights, resolveModelDir, type ServedModel } from './served-model.js';
export { OpenAIHttpError } from './openai-error.js';
export { writeTestModelDir } from './test-model.js';
export { benchServe } from './bench.js';
