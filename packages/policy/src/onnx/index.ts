export * from './graph.js';
export * from './ops.js';
export { serializeModel, OPSET } from './serialize.js';
export { backprop, gradRules, reduceTo } from './autodiff.js';
