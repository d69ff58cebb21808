export type { MathVerdict, VerifyStatus, ExtractOptions, CompareOptions, CheckOptions } from './types.js';
export { extractAnswer, finalSection, type Extraction } from './extract.js';
export { normalizeAnswer } from './normalize.js';
export { parseAnswer, type Answer, type Interval, type RelOp } from './parse/answer.js';
export { isEquivalent, checkAnswer, compareNormalized, MAX_ANSWER_CHARS } from './verify.js';
export { loadSymbolicBackend, symbolicBackendLoaded } from './compare/symbolic.js';
