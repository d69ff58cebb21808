/**
 * What a prompt is checked against. A math answer travels inline (it is short). Code tests can be
 * megabytes, so they travel once: the learner puts them in the code-tests object store under
 * their sha256 and every message carries only a reference to them (dataset, prompt id, digest,
 * size); verifiers fetch them by digest and cache them.
 */
import * as s from './schema.js';
import { ValidationError } from './errors.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

const sha256Hex = (): s.Schema<string> => ({
  expected: 'a sha256 (64 lowercase hex digits)',
  parse(value, path) {
    const v = s.string().parse(value, path);
    if (!SHA256_HEX.test(v)) throw new ValidationError(path, `expected a sha256 (64 lowercase hex digits), got "${v.slice(0, 80)}"`);
    return v;
  },
});

/** A prompt's code tests as stored in the object store (JSON): inputs and expected outputs, in order. */
export const CodeTestsSchema = s.refine(s.object({
  inputs: s.array(s.unknownValue(), { minLength: 1 }),
  outputs: s.array(s.unknownValue(), { minLength: 1 }),
  /** Call this function with each input (LeetCode style) instead of feeding stdin. */
  fnName: s.optional(s.string({ minLength: 1 })),
}), (v) => (v.inputs.length !== v.outputs.length ? { field: 'outputs', problem: `has ${v.outputs.length} outputs for ${v.inputs.length} inputs` } : undefined));
export type CodeTests = s.Infer<typeof CodeTestsSchema>;

/** Where a prompt's code tests are: its dataset and id (for people and logs), and their digest and size (what is fetched and checked). */
export const CodeTestsRefSchema = s.object({
  dataset: s.string({ minLength: 1, maxLength: 200 }),
  promptId: s.string({ minLength: 1, maxLength: 500 }),
  sha256: sha256Hex(),
  bytes: s.integer({ min: 1 }),
});
export type CodeTestsRef = s.Infer<typeof CodeTestsRefSchema>;

const MathReferenceSchema = s.object({
  type: s.literal('math'),
  answer: s.string(),
  /** The dataset writes decimals with a comma (`3,5` is 3.5); the verifier's default (off) when absent. */
  decimalComma: s.optional(s.boolean()),
});
export type MathReference = s.Infer<typeof MathReferenceSchema>;

const CodeReferenceSchema = s.object({
  type: s.literal('code'),
  language: s.optional(s.string()),
  tests: CodeTestsRefSchema,
  timeLimitS: s.optional(s.number({ min: 0 })),
  memoryMb: s.optional(s.number({ min: 1 })),
});
export type CodeReference = s.Infer<typeof CodeReferenceSchema>;

/** What a prompt is checked against, as it travels on the wire. Opaque to actors. */
export const ReferenceSchema = s.discriminated('type', { math: MathReferenceSchema, code: CodeReferenceSchema });
export type Reference = s.Infer<typeof ReferenceSchema>;

/** A reference with its code tests in hand: what a scorer checks a response against. */
export type CheckableReference = MathReference | (Omit<CodeReference, 'tests'> & { tests: CodeTests });

/** The stored form of code tests (JSON text as bytes): what is hashed, uploaded and fetched. */
export function encodeCodeTests(t: CodeTests): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(t.fnName === undefined ? { inputs: t.inputs, outputs: t.outputs } : { inputs: t.inputs, outputs: t.outputs, fnName: t.fnName }));
}

/** Parses stored code tests; a ValidationError names what is wrong (`tests` is the root). */
export function decodeCodeTests(bytes: Uint8Array): CodeTests {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new ValidationError('tests', `not JSON: ${(err as Error).message}`);
  }
  return CodeTestsSchema.parse(raw, 'tests');
}
