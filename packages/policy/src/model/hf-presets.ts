/**
 * config.json values of public models (as published with their weights), for benchmarks and tests
 * that write random-weight model directories of the real shapes. Never downloaded.
 */
export const HF_CONFIGS = {
  'Qwen3-0.6B': {
    architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', attention_bias: false, attention_dropout: 0, bos_token_id: 151643, eos_token_id: 151645,
    head_dim: 128, hidden_act: 'silu', hidden_size: 1024, initializer_range: 0.02, intermediate_size: 3072, max_position_embeddings: 40960,
    max_window_layers: 28, num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8, rms_norm_eps: 1e-6, rope_scaling: null,
    rope_theta: 1000000, sliding_window: null, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, use_sliding_window: false, vocab_size: 151936,
  },
  'Qwen2.5-0.5B': {
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', attention_dropout: 0, bos_token_id: 151643, eos_token_id: 151643, hidden_act: 'silu',
    hidden_size: 896, initializer_range: 0.02, intermediate_size: 4864, max_position_embeddings: 32768, max_window_layers: 24, num_attention_heads: 14,
    num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000, sliding_window: 32768, tie_word_embeddings: true,
    torch_dtype: 'bfloat16', use_cache: true, use_sliding_window: false, vocab_size: 151936,
  },
  'Llama-3.2-1B': {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', attention_bias: false, attention_dropout: 0, bos_token_id: 128000, eos_token_id: 128001,
    head_dim: 64, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192, max_position_embeddings: 131072, mlp_bias: false,
    num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5,
    rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    rope_theta: 500000, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, vocab_size: 128256,
  },
} as const satisfies Record<string, Record<string, unknown>>;
export type HfPreset = keyof typeof HF_CONFIGS;

/** A preset's config.json with some fields replaced (reduced depth and width for fast tests). */
export function hfPreset(name: HfPreset, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...structuredClone(HF_CONFIGS[name]) as Record<string, unknown>, ...overrides };
}
