/**
 * Demo code tasks: tiny programs in stdin/stdout and function-call style, each with a Python
 * reference solution and at least 6 tests computed here.
 */
import { DemoRng } from './rng.js';

export interface DemoCodeOptions {
  n: number;
  seed: number;
  /** Tests per task (default 6, at least 5). */
  tests?: number;
}

export interface DemoCodeProblem {
  id: string;
  problem: string;
  tests: { inputs: unknown[]; outputs: unknown[]; fn_name?: string };
  solution: string;
  family: string;
}

interface Family {
  name: string;
  make(rng: DemoRng): { problem: string; fnName?: string; solution: string; test(rng: DemoRng): { input: unknown; output: unknown } };
}

const list = (rng: DemoRng, lo: number, hi: number): number[] => Array.from({ length: rng.int(1, 8) }, () => rng.int(lo, hi));
const word = (rng: DemoRng): string => Array.from({ length: rng.int(1, 8) }, () => rng.pick([...'abcdeor'])).join('');

const FAMILIES: Family[] = [
  {
    name: 'linear-stdin',
    make(rng) {
      const p = rng.int(1, 9);
      const q = rng.int(1, 9);
      const c = rng.int(0, 20);
      return {
        problem: `read two integers a and b from one line of input. print ${p}*a+${q}*b+${c}.`,
        solution: `a, b = map(int, input().split())\nprint(${p} * a + ${q} * b + ${c})\n`,
        test: (r) => {
          const a = r.int(-50, 50);
          const b = r.int(-50, 50);
          return { input: `${a} ${b}\n`, output: `${p * a + q * b + c}\n` };
        },
      };
    },
  },
  {
    name: 'list-stdin',
    make(rng) {
      const k = rng.int(0, 9);
      const variants = [
        { what: 'the largest of them', py: 'max(xs)', f: (xs: number[]): number => Math.max(...xs) },
        { what: 'the smallest of them', py: 'min(xs)', f: (xs: number[]): number => Math.min(...xs) },
        { what: 'their sum', py: 'sum(xs)', f: (xs: number[]): number => xs.reduce((a, b) => a + b, 0) },
        { what: 'how many of them are even', py: 'sum(1 for x in xs if x % 2 == 0)', f: (xs: number[]): number => xs.filter((x) => x % 2 === 0).length },
        { what: `how many of them are greater than ${k}`, py: `sum(1 for x in xs if x > ${k})`, f: (xs: number[]): number => xs.filter((x) => x > k).length },
      ];
      const v = rng.pick(variants);
      const plus = rng.int(0, 20);
      return {
        problem: `the first line of input holds n, the second line n integers. print ${v.what}, plus ${plus}.`,
        solution: `n = int(input())\nxs = list(map(int, input().split()))\nprint(${v.py} + ${plus})\n`,
        test: (r) => {
          const xs = list(r, -20, 20);
          return { input: `${xs.length}\n${xs.join(' ')}\n`, output: `${v.f(xs) + plus}\n` };
        },
      };
    },
  },
  {
    name: 'string-stdin',
    make(rng) {
      const c = rng.pick([...'abcdeor']);
      const d = rng.pick([...'xyz']);
      const variants = [
        { what: `the word with every letter ${c} replaced by ${d}`, py: `s.replace("${c}", "${d}")`, f: (s: string): string => s.split(c).join(d) },
        { what: 'the word reversed', py: 's[::-1]', f: (s: string): string => [...s].reverse().join('') },
        { what: `how many times the letter ${c} appears in it`, py: `s.count("${c}")`, f: (s: string): string => String([...s].filter((x) => x === c).length) },
        { what: 'its length', py: 'len(s)', f: (s: string): string => String(s.length) },
      ];
      const v = rng.pick(variants);
      return {
        problem: `read one word of lower case letters. print ${v.what}.`,
        solution: `s = input().strip()\nprint(${v.py})\n`,
        test: (r) => {
          const s = word(r);
          return { input: `${s}\n`, output: `${v.f(s)}\n` };
        },
      };
    },
  },
  {
    name: 'sum-to-n-stdin',
    make(rng) {
      const m = rng.int(1, 9);
      const c = rng.int(0, 9);
      return {
        problem: `read an integer n (0 <= n <= 100). print ${m} times the sum 1+2+...+n, plus ${c}.`,
        solution: `n = int(input())\nprint(${m} * sum(range(1, n + 1)) + ${c})\n`,
        test: (r) => {
          const n = r.int(0, 100);
          return { input: `${n}\n`, output: `${(m * n * (n + 1)) / 2 + c}\n` };
        },
      };
    },
  },
  {
    name: 'divisible-call',
    make(rng) {
      const k = rng.int(2, 9);
      const count = rng.next() < 0.5;
      const name = count ? 'count_divisible' : 'sum_divisible';
      return {
        problem: `write a function ${name}(nums) that returns the ${count ? 'count' : 'sum'} of the numbers in the list nums that are divisible by ${k}.`,
        fnName: name,
        solution: count ? `def ${name}(nums):\n    return sum(1 for x in nums if x % ${k} == 0)\n` : `def ${name}(nums):\n    return sum(x for x in nums if x % ${k} == 0)\n`,
        test: (r) => {
          const xs = list(r, -30, 30);
          const hits = xs.filter((x) => x % k === 0);
          return { input: [xs], output: count ? hits.length : hits.reduce((a, b) => a + b, 0) };
        },
      };
    },
  },
  {
    name: 'pair-call',
    make(rng) {
      const k = rng.int(1, 9);
      const variants = [
        { name: 'weighted', what: `a+${k}*b for integers a and b`, py: `def weighted(a, b):\n    return a + ${k} * b\n`, f: (a: number, b: number): number => a + k * b },
        { name: 'gcd', what: 'the greatest common divisor of the positive integers a and b', py: 'import math\n\ndef gcd(a, b):\n    return math.gcd(a, b)\n', f: (a: number, b: number): number => { while (b) [a, b] = [b, a % b]; return a; } },
        { name: 'bigger', what: 'the larger of the integers a and b', py: 'def bigger(a, b):\n    return max(a, b)\n', f: (a: number, b: number): number => Math.max(a, b) },
        { name: 'square_plus', what: 'a*a+b for integers a and b', py: 'def square_plus(a, b):\n    return a * a + b\n', f: (a: number, b: number): number => a * a + b },
      ];
      const v = rng.pick(variants);
      return {
        problem: `write a function ${v.name}(a, b) that returns ${v.what}.`,
        fnName: v.name,
        solution: v.py,
        test: (r) => {
          const a = r.int(1, 60);
          const b = r.int(1, 60);
          return { input: [a, b], output: v.f(a, b) };
        },
      };
    },
  },
  {
    name: 'word-call',
    make(rng) {
      const c = rng.pick([...'abcdeor']);
      const variants = [
        { name: `count_${c}`, what: `the number of times the letter ${c} appears in the word s`, py: `def count_${c}(s):\n    return s.count("${c}")\n`, f: (s: string): unknown => [...s].filter((x) => x === c).length },
        { name: 'is_palindrome', what: 'true when the word s reads the same backwards, else false', py: 'def is_palindrome(s):\n    return s == s[::-1]\n', f: (s: string): unknown => s === [...s].reverse().join('') },
        { name: 'count_vowels', what: 'the number of vowels (a, e, i, o, u) in the word s', py: 'def count_vowels(s):\n    return sum(1 for c in s if c in "aeiou")\n', f: (s: string): unknown => [...s].filter((c) => 'aeiou'.includes(c)).length },
      ];
      const v = rng.pick(variants);
      return {
        problem: `write a function ${v.name}(s) that returns ${v.what}.`,
        fnName: v.name,
        solution: v.py,
        test: (r) => {
          const s = r.next() < 0.3 ? ((w) => w + [...w].reverse().join(''))(word(r)) : word(r);
          return { input: [s], output: v.f(s) };
        },
      };
    },
  },
  {
    name: 'fib-call',
    make(rng) {
      const m = rng.pick([7, 10, 13, 97, 100, 1000, 1000000007]);
      return {
        problem: `write a function fib_mod(n) that returns the n-th fibonacci number (fib_mod(0) = 0, fib_mod(1) = 1) modulo ${m}.`,
        fnName: 'fib_mod',
        solution: `def fib_mod(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a % ${m}\n`,
        test: (r) => {
          const n = r.int(0, 60);
          let a = 0n;
          let b = 1n;
          for (let i = 0; i < n; i++) [a, b] = [b, a + b];
          return { input: [n], output: Number(a % BigInt(m)) };
        },
      };
    },
  },
];

export const DEMO_CODE_FAMILIES: readonly string[] = FAMILIES.map((f) => f.name);

export function generateDemoCode(opts: DemoCodeOptions): DemoCodeProblem[] {
  const nTests = Math.max(5, opts.tests ?? 6);
  const rng = new DemoRng(opts.seed * 7919 + 17);
  const out: DemoCodeProblem[] = [];
  for (let i = 0; i < opts.n; i++) {
    const family = FAMILIES[i % FAMILIES.length] ?? FAMILIES[0];
    if (family === undefined) break;
    const task = family.make(rng);
    const inputs: unknown[] = [];
    const outputs: unknown[] = [];
    for (let t = 0; t < nTests; t++) {
      const c = task.test(rng);
      inputs.push(c.input);
      outputs.push(c.output);
    }
    const tests: DemoCodeProblem['tests'] = { inputs, outputs };
    if (task.fnName !== undefined) tests.fn_name = task.fnName;
    out.push({ id: `code-s${opts.seed}-${i}`, problem: task.problem, tests, solution: task.solution, family: family.name });
  }
  return out;
}
