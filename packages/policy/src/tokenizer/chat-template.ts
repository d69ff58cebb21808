import { Template } from '@huggingface/jinja';
import { ValidationError } from '@acereason/protocol';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * A model's chat template (Jinja, from tokenizer_config.json or chat_template.jinja), rendered
 * with @huggingface/jinja as transformers.js does, with the tokenizer's special tokens in scope.
 */
export class ChatTemplate {
  private readonly template: Template;

  constructor(source: string, private readonly specialTokens: Record<string, string> = {}, private readonly file = 'tokenizer_config.json:chat_template') {
    try {
      this.template = new Template(source);
    } catch (cause) {
      throw new ValidationError(file, `does not parse: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }

  /** The prompt text for `messages`; with `addGenerationPrompt` it ends where the assistant's reply begins. */
  render(messages: readonly ChatMessage[], opts: { addGenerationPrompt?: boolean; variables?: Record<string, unknown> } = {}): string {
    try {
      return this.template.render({ ...this.specialTokens, ...opts.variables, messages: messages.map((m) => ({ ...m })), add_generation_prompt: opts.addGenerationPrompt ?? true });
    } catch (cause) {
      throw new ValidationError(this.file, `failed to render: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }
}
