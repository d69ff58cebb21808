import { mkdtempSync, chownSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@acereason/protocol';
import { compareJson, compareOutput } from './compare.js';
import { extractProgram } from './extract.js';
import { HarnessError, HarnessProcess } from './harness-client.js';
import { harnessSource } from './harness-source.js';
import { compileLimits, testLimits, type LimitOptions } from './limits.js';
import { sandboxCommand } from './sandbox/command.js';
import type { SandboxKind, SandboxOptions } from './sandbox/kinds.js';
import { prepareTests, type PreparedTest } from './tests-format.js';
import type { CodeLanguage, CodeStatus, CodeSubmission, CodeVerdict } from './verdict.js';

/** What the harness reports for one test run. */
interface TestRun {
  verdict: 'ok' | 'runtime_error' | 'time_limit' | 'memory_limit' | 'output_limit';
  exitCode: number | null;
  signal: number | null;
  cpuMs: number;
  wallMs: number;
  stderr: string;
  stdout?: string;
  result?: string;
}

const STARTUP_TIMEOUT_MS = 15_000;
const REPLY_SLACK_MS = 10_000;

function isTestRun(v: unknown): v is TestRun {
  return typeof v === 'object' && v !== null && typeof (v as { verdict?: unknown }).verdict === 'string';
}

function tail(s: string, n = 300): string {
  const t = s.trim();
  return t.length > n ? `...${t.slice(-n)}` : t;
}

function verdictOf(status: CodeStatus, passed: number, total: number, reason: string, extra: Partial<CodeVerdict> = {}): CodeVerdict {
  return { status, passed: status === 'accepted', testsPassed: passed, testsTotal: total, reason, ...extra };
}

/** Judges one run against its expectation; null when it passed. */
function judge(test: PreparedTest, run: TestRun): { status: CodeStatus; reason: string } | null {
  if (run.verdict !== 'ok') {
    const why =
      run.verdict === 'runtime_error'
        ? run.signal !== null
          ? `killed by signal ${run.signal}`
          : `exit code ${run.exitCode}${run.stderr ? `: ${tail(run.stderr)}` : ''}`
        : `${run.verdict.replace('_', ' ')} (cpu ${Math.round(run.cpuMs)} ms, wall ${Math.round(run.wallMs)} ms)`;
    return { status: run.verdict, reason: why };
  }
  if (test.mode === 'stdin') {
    const c = compareOutput(test.expected, run.stdout ?? '');
    return c.ok ? null : { status: 'wrong_answer', reason: c.reason };
  }
  const text = run.result ?? '';
  if (text === '') return { status: 'runtime_error', reason: 'no return value' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { status: 'wrong_answer', reason: 'return value is not JSON' };
  }
  return compareJson(test.expected, value) ? null : { status: 'wrong_answer', reason: `expected ${tail(JSON.stringify(test.expected), 60)}, got ${tail(text, 60)}` };
}

export interface RunContext {
  kind: SandboxKind;
  slot: number;
  sandbox: SandboxOptions;
  limits: LimitOptions;
  /** Called with the harness once started, so an owner can kill it on shutdown. */
  onStart?: (h: HarnessProcess) => void;
}

function resolveProgram(sub: CodeSubmission): { language: CodeLanguage; code: string } | null {
  if (typeof sub.code === 'string' && sub.code.trim() !== '') return { language: sub.language ?? 'python', code: sub.code };
  if (typeof sub.response === 'string') {
    const p = extractProgram(sub.response);
    if (p === null) return null;
    return { language: sub.language ?? p.language, code: p.code };
  }
  return null;
}

/** Runs one submission in a fresh sandbox. Throws only for invalid tests (ValidationError). */
function checkPositive(value: number | undefined, field: string, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) throw new ValidationError(field, `must be a number in (0, ${max}]`);
}

export async function runSubmission(sub: CodeSubmission, ctx: RunContext): Promise<CodeVerdict> {
  const tests = prepareTests(sub.tests);
  checkPositive(sub.timeLimitS, 'timeLimitS', 600);
  checkPositive(sub.memoryMb, 'memoryMb', 1 << 20);
  const total = tests.length;
  const program = resolveProgram(sub);
  if (program === null) return verdictOf('no_code', 0, total, 'no ```python or ```cpp block after </think>');
  const lim = testLimits({ ...ctx.limits, ...(sub.timeLimitS === undefined ? {} : { timeLimitS: sub.timeLimitS }), ...(sub.memoryMb === undefined ? {} : { memoryMb: sub.memoryMb }) });
  const comp = compileLimits({ ...ctx.limits, ...(sub.memoryMb === undefined ? {} : { memoryMb: sub.memoryMb }) });
  let workDir = '';
  let harness: HarnessProcess | undefined;
  const timings: number[] = [];
  let passed = 0;
  try {
    if (ctx.kind !== 'bwrap') {
      workDir = mkdtempSync(join(tmpdir(), 'acereason-code-'));
      const cmd0 = sandboxCommand(ctx.kind, ctx.slot, '', ctx.sandbox, workDir);
      if (cmd0.uid !== undefined && cmd0.gid !== undefined) chownSync(workDir, cmd0.uid, cmd0.gid);
    }
    harness = new HarnessProcess(sandboxCommand(ctx.kind, ctx.slot, harnessSource(), ctx.sandbox, workDir));
    ctx.onStart?.(harness);
    const mode = tests[0]?.mode ?? 'stdin';
    const ready = (await harness.request(
      { language: program.language, mode, fnName: sub.tests.fnName ?? null, limits: lim, compile: comp, code: program.code },
      STARTUP_TIMEOUT_MS + comp.wallS * 1000,
    )) as { ready?: boolean; compileError?: string; verdict?: string };
    if (ready.ready !== true) {
      return verdictOf('compile_error', 0, total, tail(ready.compileError ?? 'compilation failed', 1000));
    }
    let first: { index: number; status: CodeStatus; reason: string } | undefined;
    for (let i = 0; i < total; i++) {
      const test = tests[i];
      if (test === undefined) break;
      const reply = await harness.request({ op: 'run', input: test.input }, lim.wallS * 1000 + REPLY_SLACK_MS);
      const syntax = (reply as { compileError?: unknown }).compileError;
      if (typeof syntax === 'string') return verdictOf('compile_error', 0, total, tail(syntax, 1000));
      if (!isTestRun(reply)) throw new HarnessError('malformed reply from harness');
      timings.push(reply.wallMs);
      const bad = judge(test, reply);
      if (bad === null) {
        passed++;
        continue;
      }
      first ??= { index: i, ...bad };
      if (sub.runAll !== true) break;
    }
    if (first === undefined) return verdictOf('accepted', passed, total, `passed ${passed}/${total}`, { timingsMs: timings });
    return verdictOf(first.status, passed, total, `test ${first.index}: ${first.reason}`, { firstFailedTest: first.index, timingsMs: timings });
  } catch (e) {
    // Whatever went wrong here is the sandbox's fault (spawn, I/O, protocol), never the program's.
    const message = e instanceof HarnessError ? e.message : `sandbox failure: ${(e as Error).message}`;
    return verdictOf('sandbox_error', passed, total, message, { timingsMs: timings });
  } finally {
    await harness?.close();
    if (workDir !== '') rmSync(workDir, { recursive: true, force: true });
  }
}
