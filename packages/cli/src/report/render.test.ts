import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assertAvailable, skipUnlessCi } from '@acereason/testkit';
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

test('the report renders in headless Chromium', { skip: skipUnlessCi(NO_CHROMIUM), timeout: 120_000 }, async () => {
  assertAvailable(NO_CHROMIUM);
  const dir = mkdtempSync(join(tmpdir(), 'acereason-report-'));
  try {
    const page = join(dir, 'report.html');
    writeFileSync(page, renderReport(sampleRun(), { title: 'acereason report check', generatedAt: 'test' }));
    const base = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
    const dom = await run(chromium as string, [...base, `--user-data-dir=${join(dir, 'profile-dom')}`, '--dump-dom', `file://${page}`], { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 });
    assert.equal((dom.stdout.match(/<svg /g) ?? []).length, 6, 'six charts in the rendered DOM');
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
