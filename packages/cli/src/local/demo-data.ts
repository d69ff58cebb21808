/** Small arithmetic prompts in the demo alphabet, for benchmarks and smoke runs. */
export function arithmeticProblems(n: number, seed = 1): { id: string; problem: string; answer: string }[] {
  let x = seed >>> 0 || 1;
  const rnd = (k: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % k;
  };
  return Array.from({ length: n }, (_, i) => {
    const a = rnd(50);
    const b = rnd(50);
    return { id: `a${i}`, problem: `${a}+${b}`, answer: String(a + b) };
  });
}
