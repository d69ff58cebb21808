/** pass@k and avg@k over n samples per prompt (Chen et al. 2021's unbiased estimator). */

/** 1 - C(n-c, k) / C(n, k), computed as a stable product. */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new RangeError(`pass@k needs k <= n (k=${k}, n=${n})`);
  if (n - c < k) return 1;
  let miss = 1;
  for (let i = n - c + 1; i <= n; i++) miss *= 1 - k / i;
  return 1 - miss;
}

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
