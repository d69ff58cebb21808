import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { natsServerVersion } from '@acereason/transport';
import { assertAvailable, skipUnlessCi } from '@acereason/testkit';
import { etaText } from './demo.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../main.js', import.meta.url));

function findChromium(): string | undefined {
  for (const c of ['chromium', 'chromium-browser', 'google-chrome']) {
    for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, c))) return join(dir, c);
  }
  return undefined;
}

const NO_NATS = natsServerVersion() === undefined && 'nats-server is not installed';

const isNumOrNull = (v: unknown): boolean => v === null || (typeof v === 'number' && v >= 0 && v <= 1);

/** What a run computed, without what the clock measured: summary.json less wall_s, every metrics line less its timings and worker counts, every eval less its seconds. */
function computed(out: string): unknown {
  const lines = (f: string): Record<string, unknown>[] => readFileSync(join(out, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const timing = (k: string): boolean => k.endsWith('_s') || k.endsWith('_ms') || k === 'seconds' || k === 'actors' || k === 'verifiers';
  const strip = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([k]) => !timing(k)));
  return { summary: strip(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>), metrics: lines('metrics.jsonl').map(strip), evals: lines('evals.jsonl').map(strip) };
}

/** Runs `fn` while two child processes spin (both cores of the 2-core machine busy), then stops them. */
async function underLoad<T>(fn: () => Promise<T>): Promise<T> {
  const spinners = [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  try {
    return await fn();
  } finally {
    for (const s of spinners) s.kill('SIGKILL');
  }
}

test('acereason demo --quick runs every stage and writes summary.json, metrics.jsonl and report.html; a second run with the machine loaded computes exactly the same', { skip: skipUnlessCi(NO_NATS), timeout: 600_000 }, async () => {
  assertAvailable(NO_NATS);
  const dir = mkdtempSync(join(tmpdir(), 'acereason-demo-'));
  const out = join(dir, 'run');
  try {
    const r = await run(process.execPath, [BIN, 'demo', '--quick', '--out', out], { timeout: 200_000, maxBuffer: 16 * 1024 * 1024 });
    assert.match(r.stdout, /before RL\s+after math\s+after code/);
    assert.match(r.stdout, /^math \(avg@k\)/m);
    assert.match(r.stdout, /^code \(avg@k\)/m);
    assert.match(r.stdout, /stage math-32 +step +1\//);
    for (const f of ['summary.json', 'metrics.jsonl', 'report.html']) assert.ok(existsSync(join(out, f)), `${f} is written`);

    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(s).sort(), ['code', 'math', 'stages', 'wall_s']);
    assert.ok(typeof s.wall_s === 'number' && s.wall_s > 0);
    for (const d of ['math', 'code'] as const) {
      const p = s[d] as Record<string, unknown>;
      assert.deepEqual(Object.keys(p).sort(), ['after_code', 'after_math', 'before']);
      for (const v of Object.values(p)) assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `${d}: ${JSON.stringify(p)} are measured accuracies`);
    }
    const stages = s.stages as { name: string; domain: string; steps: number; eval_before: Record<string, unknown>; eval_after: Record<string, unknown> }[];
    assert.ok(stages.length >= 2);
    assert.equal(stages.at(-1)?.domain, 'code', 'the last stage is code');
    assert.ok(stages.some((st) => st.domain === 'math'));
    for (const st of stages) {
      assert.deepEqual(Object.keys(st).sort(), ['domain', 'eval_after', 'eval_before', 'name', 'steps']);
      assert.ok(st.steps >= 1, `stage ${st.name} ran (${st.steps} steps)`);
      for (const e of [st.eval_before, st.eval_after]) {
        assert.ok(isNumOrNull(e.math) && isNumOrNull(e.code));
        assert.equal(typeof e.math, 'number', `stage ${st.name} has its boundary evals`);
      }
    }
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; stage: string });
    assert.equal(metrics.length, stages.reduce((a, st) => a + st.steps, 0));
    assert.deepEqual([...new Set(metrics.map((m) => m.stage))], stages.map((st) => st.name));

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /^<!doctype html>/i);
    assert.ok(!/<script|https?:\/\//i.test(html.replace(/xmlns(:\w+)?="http:\/\/www\.w3\.org[^"]*"/g, '')), 'self-contained');
    for (const st of stages) assert.ok(html.includes(st.name), `the report marks stage ${st.name}`);
    // the held-out evals of this run: a chart beside the training curves, every round tabled, and the terminal's before/after table
    const evals = readFileSync(join(out, 'evals.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { dataset: string; avgAtK: number });
    assert.ok(evals.length >= 2 * (stages.length + 1), `evals before RL and at each boundary (${evals.length} lines)`);
    const evalChart = /<svg[^>]*id="chart-evals"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    for (const d of new Set(evals.map((e) => e.dataset))) assert.match(evalChart, new RegExp(`data-series="${d} avg@`), `the eval chart has ${d}`);
    const evalTable = /<table id="evals">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    for (const st of stages) assert.match(evalTable, new RegExp(`end of ${st.name}<br>`), `the eval table has the end of ${st.name}`);
    const pc = (v: unknown): string => `${((v as number) * 100).toFixed(1)}%`;
    const m = s.math as Record<string, unknown>;
    assert.ok(html.includes(`<td>math (avg@k)</td><td>${pc(m.before)}</td><td>${pc(m.after_math)}</td><td>${pc(m.after_code)}</td>`), 'the before/after table matches summary.json');

    const chromium = findChromium();
    if (chromium) {
      const base = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
      const dom = await run(chromium, [...base, `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${join(out, 'report.html')}`], { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 });
      assert.ok((dom.stdout.match(/<svg /g) ?? []).length >= 1, 'charts in the rendered DOM');
    }

    // Reproducible under load: same seeds and code, two busy processes competing for the cores.
    const again = join(dir, 'again');
    await underLoad(() => run(process.execPath, [BIN, 'demo', '--quick', '--out', again], { timeout: 400_000, maxBuffer: 16 * 1024 * 1024 }));
    assert.deepEqual(computed(again), computed(out), 'summary, every step\'s figures and every eval are the same');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('acereason demo refuses an --out folder that already holds a run, and leaves it as it was', { skip: skipUnlessCi(NO_NATS) }, async () => {
  assertAvailable(NO_NATS);
  const dir = mkdtempSync(join(tmpdir(), 'acereason-demo-'));
  try {
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step":0}\n');
    await assert.rejects(run(process.execPath, [BIN, 'demo', '--out', dir], { timeout: 60_000 }), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, /already holds a run \(metrics\.jsonl\)/);
      return true;
    });
    assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'), '{"step":0}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the demo\'s ETA paces each domain by its own recent steps and counts steps of a domain not run yet', () => {
  const stages = [
    { name: 'm1', domain: 'math' as const, steps: 3 },
    { name: 'm2', domain: 'math' as const, steps: 2 },
    { name: 'c', domain: 'code' as const, steps: 4 },
  ];
  assert.equal(etaText(stages, []), '0s + 5 math steps + 4 code steps');
  const math = [{ stage: 'm1', step_s: 1 }, { stage: 'm1', step_s: 3 }];
  assert.equal(etaText(stages, math), '6s + 4 code steps', '3 math steps left at 2 s each');
  const all = [...math, { stage: 'm1', step_s: 2 }, { stage: 'm2', step_s: 2 }, { stage: 'm2', step_s: 2 }, { stage: 'c', step_s: 10 }];
  assert.equal(etaText(stages, all), '30s', '3 code steps left at 10 s each');
  assert.equal(etaText(stages, [...all, ...Array.from({ length: 3 }, () => ({ stage: 'c', step_s: 12 }))]), '0s');
});
