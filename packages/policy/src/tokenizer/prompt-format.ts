import { ValidationError } from '@acereason/protocol';
import type { ChatMessage, ChatTemplate } from './chat-template.js';
import type { Tokenizer } from './tokenizer.js';

/** The recipe's instructions (RECIPE.md, Evaluation: prompts). */
export const RECIPE_INSTRUCTIONS = {
  math: 'Please reason step by step, and put your final answer within \\boxed{}.',
  code: 'Write Python code to solve the problem. Please place the solution code in the following format:\n```python\n# Your solution code here\n```',
} as const;

/**
 * How a dataset's problems become prompts. `chat`: a user message (problem, then the instruction)
 * after an optional system message, through the model's chat template with the generation prompt;
 * `raw`: the text as it is (problem, then the instruction), encoded with the tokenizer's own
 * special tokens (e.g. a BOS).
 */
export interface PromptFormat {
  mode: 'chat' | 'raw';
  system?: string;
  /** Appended to the problem on its own paragraph; none when absent. */
  instruction?: string;
}

export interface PromptTokenizer {
  tokenizer: Tokenizer;
  chatTemplate?: ChatTemplate;
}

export function promptText(p: PromptTokenizer, format: PromptFormat, problem: string): string {
  const user = format.instruction === undefined || format.instruction === '' ? problem : `${problem}\n\n${format.instruction}`;
  if (format.mode === 'raw') return format.system === undefined ? user : `${format.system}\n\n${user}`;
  if (p.chatTemplate === undefined) throw new ValidationError('prompt.mode', 'chat needs a chat template (tokenizer_config.json:chat_template or chat_template.jinja)');
  const messages: ChatMessage[] = [];
  if (format.system !== undefined) messages.push({ role: 'system', content: format.system });
  messages.push({ role: 'user', content: user });
  return p.chatTemplate.render(messages, { addGenerationPrompt: true });
}

/**
 * Prompt token ids. A rendered template already holds every special token it wants (a template
 * that writes the BOS gets exactly one), so chat prompts are encoded without adding any, as
 * transformers' apply_chat_template does.
 */
export function encodePrompt(p: PromptTokenizer, format: PromptFormat, problem: string): Uint32Array {
  return p.tokenizer.encode(promptText(p, format, problem), { addSpecialTokens: format.mode === 'raw' });
}
