/**
 * How a dataset's problems become prompts, from the run file:
 * - `prompt_template: "...{problem}..."`: the text with the problem put in, encoded with the
 *   tokenizer's own special tokens (the demo's way, and the default without a model directory);
 * - `prompt: { mode: chat | raw, system?, instruction? }`: chat renders a user message (problem,
 *   then the instruction) after the optional system message through the model's chat template
 *   with the generation prompt; raw is that text as it is. In chat mode the instruction defaults
 *   to the recipe's for the dataset's domain; `instruction: ""` leaves it out.
 * With `model.path` and neither given, a dataset is prompted in chat mode with the defaults.
 */
import { ValidationError, type Domain } from '@acereason/protocol';
import { RECIPE_INSTRUCTIONS, type PromptFormat } from '@acereason/policy';
import { parseEnum, parseString, section } from './units.js';

export const MATH_PROMPT = `{problem}\n${RECIPE_INSTRUCTIONS.math}`;
export const CODE_PROMPT = `{problem}\n${RECIPE_INSTRUCTIONS.code}`;

export type DatasetPrompt = { kind: 'template'; template: string } | { kind: 'format'; format: PromptFormat };

export function compileDatasetPrompt(d: Record<string, unknown>, field: string, domain: Domain, hasModelDir: boolean): DatasetPrompt {
  if (d.prompt_template !== undefined && d.prompt !== undefined) throw new ValidationError(`${field}.prompt`, 'give either prompt or prompt_template, not both');
  if (d.prompt_template !== undefined) {
    const template = parseString(d.prompt_template, `${field}.prompt_template`);
    if (!template.includes('{problem}')) throw new ValidationError(`${field}.prompt_template`, 'must contain {problem}');
    return { kind: 'template', template };
  }
  if (d.prompt === undefined && !hasModelDir) return { kind: 'template', template: domain === 'math' ? MATH_PROMPT : CODE_PROMPT };
  const p = section(d.prompt ?? {}, `${field}.prompt`, ['mode', 'system', 'instruction']);
  const mode = parseEnum(p.mode ?? 'chat', `${field}.prompt.mode`, ['chat', 'raw'] as const);
  const format: PromptFormat = { mode };
  if (p.system !== undefined) format.system = parseString(p.system, `${field}.prompt.system`);
  const instruction = p.instruction === undefined ? (mode === 'chat' ? RECIPE_INSTRUCTIONS[domain] : undefined) : p.instruction === '' ? undefined : parseString(p.instruction, `${field}.prompt.instruction`);
  if (instruction !== undefined) format.instruction = instruction;
  return { kind: 'format', format };
}
