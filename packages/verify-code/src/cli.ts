import { createInterface } from 'node:readline';
import { availableParallelism } from 'node:os';
import { CodeVerifier, SandboxUnavailableError } from './pool.js';
import { detectSandbox } from './sandbox/detect.js';
import { INSTALL_HINT } from './sandbox/kinds.js';
import type { CodeLanguage, CodeSubmission, CodeVerdict } from './verdict.js';

export interface VerifyCodeCliOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  concurrency?: number;
  /** Run without isolation when no sandbox works. Only for trusted code. */
  unsafeNoSandbox?: boolean;
}

class LineError extends Error {}

function language(v: unknown): CodeLanguage | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new LineError('language: must be a string');
  const l = v.toLowerCase();
  if (l === 'python' || l === 'python3' || l === 'py') return 'python';
  if (l === 'cpp' || l === 'c++' || l === 'cpp17' || l === 'c++17') return 'cpp';
  throw new LineError(`language: unsupported ${JSON.stringify(v)} (python or cpp)`);
}

function optNumber(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new LineError(`${key}: must be a positive number`);
  return v;
}

/** Parses one input line into an id and a submission; throws LineError naming the field. */
export function parseLine(line: string): { id: unknown; sub: CodeSubmission } {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new LineError('not valid JSON');
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new LineError('not a JSON object');
  const r = o as Record<string, unknown>;
  const tests = r['tests'];
  if (tests === null || typeof tests !== 'object' || Array.isArray(tests)) throw new LineError('tests: must be an object');
  const t = tests as Record<string, unknown>;
  if (typeof r['code'] !== 'string' && typeof r['response'] !== 'string') throw new LineError('one of response or code is required');
  const fnName = t['fn_name'] ?? t['fnName'];
  const lang = language(r['language']);
  const timeLimitS = optNumber(r, 'time_limit_s');
  const memoryMb = optNumber(r, 'memory_mb');
  const sub: CodeSubmission = {
    tests: {
      inputs: t['inputs'] as unknown[],
      outputs: t['outputs'] as unknown[],
      ...(typeof fnName === 'string' && fnName !== '' ? { fnName } : {}),
    },
    ...(typeof r['code'] === 'string' ? { code: r['code'] } : { response: r['response'] as string }),
    ...(lang === undefined ? {} : { language: lang }),
    ...(timeLimitS === undefined ? {} : { timeLimitS }),
    ...(memoryMb === undefined ? {} : { memoryMb }),
  };
  return { id: r['id'] ?? null, sub };
}

function outLine(id: unknown, v: CodeVerdict): string {
  return JSON.stringify({
    id,
    passed: v.passed,
    status: v.status,
    tests_passed: v.testsPassed,
    tests_total: v.testsTotal,
    ...(v.firstFailedTest === undefined ? {} : { first_failed_test: v.firstFailedTest }),
    reason: v.reason,
  });
}

/**
 * `acereason verify code`: JSON lines in, one JSON line out per input line, in input order.
 * A bad line yields `{"line": N, "error": ...}` and the run goes on. Without a working sandbox it
 * refuses (SandboxUnavailableError naming the fix) unless `unsafeNoSandbox` is set.
 */
export async function runVerifyCodeCli(opts: VerifyCodeCliOptions): Promise<{ lines: number; ok: number; bad: number }> {
  const concurrency = opts.concurrency ?? availableParallelism();
  const status = await detectSandbox();
  if (!status.ok && opts.unsafeNoSandbox !== true) {
    throw new SandboxUnavailableError(`refusing to run untrusted code without a sandbox: ${status.reason}. Install one (${INSTALL_HINT}) or pass --unsafe-no-sandbox for trusted code only.`);
  }
  const verifier = new CodeVerifier({ concurrency, sandbox: status.ok && status.kind !== 'none' ? status.kind : 'none-unsafe' });
  const counts = { lines: 0, ok: 0, bad: 0 };
  const window: Array<Promise<string>> = [];
  const maxInFlight = concurrency * 4;
  const write = (s: string): Promise<void> =>
    new Promise((resolve) => {
      if (opts.output.write(`${s}\n`)) resolve();
      else opts.output.once('drain', () => resolve());
    });
  const flushOne = async (): Promise<void> => {
    const head = window.shift();
    if (head !== undefined) await write(await head);
  };
  try {
    const rl = createInterface({ input: opts.input, crlfDelay: Infinity });
    let n = 0;
    for await (const line of rl) {
      n++;
      if (line.trim() === '') continue;
      counts.lines++;
      const lineNo = n;
      const job = (async (): Promise<string> => {
        try {
          const { id, sub } = parseLine(line);
          const v = await verifier.verify(sub);
          counts.ok++;
          return outLine(id, v);
        } catch (e) {
          counts.bad++;
          return JSON.stringify({ line: lineNo, error: (e as Error).message });
        }
      })();
      window.push(job);
      if (window.length >= maxInFlight) await flushOne();
    }
    while (window.length > 0) await flushOne();
  } finally {
    await verifier.close();
  }
  return counts;
}
