import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assertAvailable, skipUnlessCi } from '@acereason/testkit';
import { evalRounds, parseEvalsJsonl, type EvalLine } from './evals.js';
import { parseMetricsJsonl, renderReport, stageBoundaries, type MetricsLine } from './render.js';

const run = promisify(execFile);

/** Twelve steps over two stages, shaped like a learner's metrics.jsonl lines. */
function sampleRun(): MetricsLine[] {
  const out: MetricsLine[] = [];
  for (let step = 1; step <= 12; step++) {
    const stage = step <= 7 ? 'math-8k' : 'math-16k';
    out.push({
      step, stage, stage_index: step <= 7 ? 0 : 1, policy_version: step, reward_mean: 0.1 + step * 0.05, accuracy: Math.min(1, 0.05 + step * 0.06),
      response_len_mean: 40 + step * 3, response_len_p95: 60 + step * 4, truncation_rate: step <= 7 ? 0.3 - step * 0.03 : 0.2 - (step - 7) * 0.02,
      entropy_mean: 1.5 - step * 0.05, wait_rollouts_s: 2 + (step % 3) * 0.4, verify_s: 0.3, train_s: 1.2, publish_s: 0.1, step_s: 3.8,
    });
  }
  return out;
}

/** evals.jsonl lines as the learner writes them: before RL, a periodic eval, and each stage's end. */
function sampleEvals(): EvalLine[] {
  const rounds: [number, EvalLine['trigger'], number][] = [
    [0, { kind: 'before-training' }, 0.2], [4, { kind: 'periodic', everySteps: 4 }, 0.35], [7, { kind: 'stage-end', stage: 'math-8k' }, 0.5], [12, { kind: 'stage-end', stage: 'math-16k' }, 0.625],
  ];
  return rounds.flatMap(([step, trigger, acc]) => ['math_eval', 'code_eval'].map((dataset, i) => ({
    dataset, step, stage: step <= 7 ? 'math-8k' : 'math-16k', policyVersion: step, prompts: 8, k: 4, avgAtK: acc - i * 0.1, passAtK: acc + 0.1, missing: 0, reason: 'r', trigger, seconds: 1,
  })));
}

test('stage boundaries are where the stage field changes', () => {
  assert.deepEqual(stageBoundaries(sampleRun()), [{ step: 1, name: 'math-8k' }, { step: 8, name: 'math-16k' }]);
});

test('metrics.jsonl parsing names the bad line', () => {
  assert.equal(parseMetricsJsonl('{"step":1}\n\n{"step":2}\n').length, 2);
  assert.throws(() => parseMetricsJsonl('{"step":1}\nnot json\n', 'm.jsonl'), /m\.jsonl:2: not valid JSON/);
  assert.throws(() => parseMetricsJsonl('{"x":1}\n', 'm.jsonl'), /m\.jsonl:1: expected an object with a numeric "step"/);
});

test('the report is one self-contained page with six charts, stage lines and a summary', () => {
  const html = renderReport(sampleRun(), { title: 'run <demo>', generatedAt: 'now' });
  assert.doesNotMatch(html, /<script|<link|@import|url\(|src=/i, 'no external resources or scripts');
  assert.equal((html.match(/https?:\/\//g) ?? []).filter((u) => u !== 'http://').length, 0);
  assert.equal((html.match(/<svg /g) ?? []).length, 6);
  for (const id of ['chart-reward', 'chart-accuracy', 'chart-length', 'chart-truncation', 'chart-entropy', 'chart-time']) assert.match(html, new RegExp(`id="${id}"`));
  assert.equal((html.match(/class="stage"/g) ?? []).length, 12, 'two stage marks on each of six charts');
  assert.equal((html.match(/class="bar"/g) ?? []).length, 48, 'four stacked parts per step');
  assert.match(html, /<title>run &lt;demo&gt;<\/title>/);
  assert.match(html, /<td>math-16k<\/td><td>8&ndash;12<\/td>/);
  assert.doesNotThrow(() => renderReport([], { title: 'empty' }));
});

function findChromium(): string | undefined {
  for (const c of ['chromium', 'chromium-browser', 'google-chrome']) {
    for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, c))) return join(dir, c);
  }
  return undefined;
}

const chromium = findChromium();
const NO_CHROMIUM = chromium === undefined && 'chromium is not installed (apt-get install chromium; .ci/run installs it)';

test('the report charts the held-out evals on the training step axis and tables every round and the before/after', () => {
  const evals = sampleEvals();
  assert.deepEqual(evalRounds(evals).map((r) => [r.label, r.step, r.boundary]), [['before RL', 0, true], ['step 4', 4, false], ['end of math-8k', 7, true], ['end of math-16k', 12, true]]);
  const html = renderReport(sampleRun(), { title: 't', generatedAt: 'now', evals, headline: { columns: ['before RL', 'after math'], rows: [{ name: 'math (avg@k)', values: [0.2, null] }] } });
  assert.equal((html.match(/<svg /g) ?? []).length, 7, 'the eval chart beside the six training charts');
  const chart = /<svg[^>]*id="chart-evals"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
  assert.match(chart, /data-series="math_eval avg@4"/);
  assert.match(chart, /data-series="code_eval avg@4"/);
  assert.equal((chart.match(/<circle /g) ?? []).length, 8, 'one point per dataset and round');
  assert.match(chart, /<title>step 12 math_eval avg@4: 0\.625<\/title>/);
  const table = /<table id="evals">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
  assert.match(table, /<th class="boundary">end of math-16k<br><span class="sub">step 12<\/span><\/th>/);
  assert.match(table, /<th>step 4<br>/, 'a periodic eval is a column too');
  assert.match(table, /<tr><td>code_eval<\/td><td[^>]*>10\.0% <span class="sub">\(30\.0%\)<\/span><\/td>/);
  assert.match(html, /<table id="headline">.*<td>math \(avg@k\)<\/td><td>20\.0%<\/td><td>-<\/td>/);
});

test('evals.jsonl parsing names the bad line and field', () => {
  assert.equal(parseEvalsJsonl(sampleEvals().map((e) => JSON.stringify(e)).join('\n')).length, 8);
  assert.throws(() => parseEvalsJsonl('{"dataset":"m","step":1}\n', 'e.jsonl'), /e\.jsonl:1: "k" must be a number/);
  assert.throws(() => parseEvalsJsonl('\n{', 'e.jsonl'), /e\.jsonl:2: not valid JSON/);
});

test('the report renders in headless Chromium', { skip: skipUnlessCi(NO_CHROMIUM), timeout: 120_000 }, async () => {
  assertAvailable(NO_CHROMIUM);
  const dir = mkdtempSync(join(tmpdir(), 'acereason-report-'));
  try {
    const page = join(dir, 'report.html');
    writeFileSync(page, renderReport(sampleRun(), { title: 'acereason report check', generatedAt: 'test', evals: sampleEvals() }));
    const base = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
    const dom = await run(chromium as string, [...base, `--user-data-dir=${join(dir, 'profile-dom')}`, '--dump-dom', `file://${page}`], { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 });
    assert.equal((dom.stdout.match(/<svg /g) ?? []).length, 7, 'seven charts in the rendered DOM');
    assert.match(dom.stdout, /<table id="evals">/);
    assert.match(dom.stdout, /class="stage-label"[^>]*>math-16k</);
    assert.match(dom.stdout, /<path class="series" data-series="reward_mean"/);
    const png = join(process.env.ACEREASON_REPORT_SCREENSHOT_DIR ?? dir, 'report.png');
    await run(chromium as string, [...base, `--user-data-dir=${join(dir, 'profile-shot')}`, `--screenshot=${png}`, '--window-size=1200,2000', '--hide-scrollbars', `file://${page}`], { timeout: 90_000 });
    const bytes = readFileSync(png);
    assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
    assert.ok(statSync(png).size > 20_000, `a screenshot with content (${statSync(png).size} bytes)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
