/** pass@k and avg@k per domain over n samples per prompt (the learner's unbiased estimator). */
import { passAtK } from '@acereason/learner';

export { passAtK };

export interface PromptOutcome {
  domain: string;
  n: number;
  correct: number;
}

export interface DomainScore {
  domain: string;
  prompts: number;
  samplesPerPrompt: number;
  k: number;
  /** Mean fraction of correct samples per prompt. */
  avgAtK: number;
  passAtK: number;
  pass1: number;
}

export function scoreByDomain(outcomes: readonly PromptOutcome[], k: number): DomainScore[] {
  const domains = [...new Set(outcomes.map((o) => o.domain))].sort();
  return domains.map((domain) => {
    const rows = outcomes.filter((o) => o.domain === domain);
    const mean = (f: (o: PromptOutcome) => number): number => rows.reduce((a, o) => a + f(o), 0) / rows.length;
    return {
      domain, prompts: rows.length, samplesPerPrompt: rows[0]?.n ?? 0, k,
      avgAtK: mean((o) => o.correct / o.n),
      passAtK: mean((o) => passAtK(o.n, o.correct, k)),
      pass1: mean((o) => passAtK(o.n, o.correct, 1)),
    };
  });
}
