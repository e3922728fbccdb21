// The app end to end in Chromium, on a fresh data folder: import the synthetic set (written as a
// CIFAR-10 record file) through the path field, configure and start a tiny run, watch its live
// curves grow, pause and resume it, train a second run, compare the two, evaluate, export. A
// screenshot of every view goes to $SCREENSHOT_DIR (default test-results/screenshots).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshot, startApp, writeCifarBin, type AppServer } from './harness';

let app: AppServer;
let browser: { context: BrowserContext; userDataDir: string };
let page: Page;
const pageErrors: string[] = [];
const runIds: string[] = [];

const points = async (chartTitle: string) => Number(await page.getByLabel(chartTitle, { exact: true }).getAttribute('data-points'));
const status = () => page.getByTestId('run-status');

/** Fills the New run form with a tiny configuration: seconds per epoch on the wasm backend. */
async function tinyRun(opts: { dataset: string; name: string; preset: string; maxBatches: number }): Promise<void> {
  await page.goto(`${app.url}#/new-run`);
  await page.getByLabel('data set', { exact: true }).selectOption(opts.dataset);
  await page.getByRole('button', { name: 'Tiny (quick try-out)' }).click();
  await page.getByLabel('run name').fill(opts.name);
  await page.getByRole('button', { name: opts.preset }).click();
  await page.getByLabel('Epochs', { exact: true }).fill('2');
  await page.getByLabel('Batch size', { exact: true }).fill('16');
  await page.getByLabel('Held-out images / epoch', { exact: true }).fill('32');
  await page.getByLabel('Max batches / epoch', { exact: true }).fill(String(opts.maxBatches));
  await page.getByLabel('backend', { exact: true }).selectOption('wasm');
}

async function startAndWaitForLive(): Promise<string> {
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForURL(/#\/live\?run=/);
  const runId = new URL(page.url().replace('#/', '')).searchParams.get('run')!;
  runIds.push(runId);
  return runId;
}

beforeAll(async () => {
  app = await startApp();
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    // A CSP violation or an uncaught renderer error shows here; both must fail the suite.
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
});

afterAll(async () => {
  if (browser) {
    await browser.context.close();
    fs.rmSync(browser.userDataDir, { recursive: true, force: true });
  }
  if (app) {
    const code = await app.stop();
    fs.rmSync(app.home, { recursive: true, force: true });
    expect(code, app.output()).toBe(0);
  }
});

describe('ExitLab in the browser mode', () => {
  it('lists the synthetic set with samples per class, and imports a data set by path with readable errors', async () => {
    await page.goto(`${app.url}#/datasets`);
    await expect.poll(() => page.getByRole('img', { name: 'disc sample 1' }).count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => page.getByLabel('Images per class').getAttribute('data-bars')).toBe('20');

    // A wrong path: the importer's message reaches the user, nothing is added.
    await page.getByLabel('File or folder').fill(path.join(app.home, 'missing.bin'));
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'missing.bin' }).count()).toBeGreaterThan(0);

    const bin = path.join(app.home, 'synthetic-subset.bin');
    writeCifarBin(app.home, 'synthetic', 600, bin);
    await page.getByLabel('File or folder').fill(bin);
    await page.getByLabel('data set name').fill('synthetic-bin');
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'synthetic-bin', exact: true }).count(), { timeout: 30_000 }).toBe(1);
    // The imported set is selected: CIFAR-10 class names, counts and its own samples.
    await expect.poll(() => page.getByRole('img', { name: 'airplane sample 1' }).count(), { timeout: 30_000 }).toBe(1);
    await screenshot(page, '1-datasets');
  });

  it('configures a run: λ presets and editing, inline validation, start', async () => {
    await tinyRun({ dataset: 'synthetic-bin', name: 'e2e ramp', preset: 'Linear ramp', maxBatches: 8 });
    // Tiny model: 3 exits, so 3 λ values, ramping 0.05 → 0.2.
    await expect(await page.getByLabel('λ exit 1').inputValue()).toBe('0.05');
    await expect(await page.getByLabel('λ exit 3').inputValue()).toBe('0.2');
    await page.getByLabel('λ exit 2').fill('0.12');
    await expect.poll(() => page.getByText('custom', { exact: true }).count()).toBe(1);
    await expect(await page.getByRole('slider', { name: 'λ of exit 2' }).getAttribute('aria-valuenow')).toBe('0.12');

    // Inline validation: the field says what is wrong and Start is blocked until it is fixed.
    await page.getByLabel('Epochs', { exact: true }).fill('0');
    await expect.poll(() => page.getByRole('alert').filter({ hasText: /too small|>0|greater/i }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Start training' }).isDisabled()).toBe(true);
    await page.getByLabel('λ warm-up epochs').fill('3');
    await page.getByLabel('Epochs', { exact: true }).fill('2');
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'warm-up' }).count()).toBe(1);
    await page.getByLabel('λ warm-up epochs').fill('1');
    expect(await page.getByRole('button', { name: 'Start training' }).isDisabled()).toBe(false);
    await expect.poll(() => page.getByLabel('model summary').count(), { timeout: 30_000 }).toBe(1);
    await screenshot(page, '2-new-run');
    await startAndWaitForLive();
  });

  it('shows the run live: status, pause and resume, curves that grow epoch by epoch, then completion', async () => {
    await expect.poll(() => status().textContent(), { timeout: 60_000 }).toMatch(/running/);
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => status().textContent(), { timeout: 60_000 }).toBe('paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => status().textContent(), { timeout: 30_000 }).toBe('running');

    await expect.poll(() => points('Training loss (per batch)'), { timeout: 60_000 }).toBeGreaterThan(0);
    // One point per exit after epoch 1, two after epoch 2: the curves update while the run goes.
    await expect.poll(() => points('Held-out clean accuracy'), { timeout: 120_000 }).toBeGreaterThanOrEqual(3);
    const afterFirst = await points('Held-out PGD-10 accuracy');
    expect(afterFirst).toBeGreaterThanOrEqual(3);
    await screenshot(page, '3-live-run-epoch-1');
    await expect.poll(() => status().textContent(), { timeout: 120_000 }).toBe('completed');
    expect(await points('Held-out PGD-10 accuracy')).toBe(6);
    expect(await points('FC weight norm ‖W_fc‖ per exit')).toBe(6);
    await expect.poll(() => page.getByTestId('eta').textContent()).toBe('—');
    await screenshot(page, '4-live-run-completed');
  });

  it('trains a second run to compare with', async () => {
    await tinyRun({ dataset: 'synthetic', name: 'e2e no penalty', preset: 'Off', maxBatches: 4 });
    await startAndWaitForLive();
    await expect.poll(() => status().textContent(), { timeout: 150_000 }).toBe('completed');
  });

  it('lists, tags and compares the two runs side by side', async () => {
    await page.goto(`${app.url}#/runs`);
    for (const id of runIds) await page.getByLabel(`select ${id}`).check();
    await page.getByRole('button', { name: 'Compare' }).click();
    const diff = page.getByLabel('configuration differences');
    await expect.poll(() => diff.textContent()).toMatch(/lambda/);
    await expect.poll(() => diff.textContent()).toMatch(/dataset/);
    // Per-exit overlaid curves (one chart per exit, a line per run) and robustness bars per attack.
    await expect.poll(() => page.getByLabel('exit 3 · held-out PGD-10 accuracy').getAttribute('data-points')).toBe('4');
    await expect.poll(async () => Number(await page.getByLabel(/^PGD-10 · ε 8\/255/).first().getAttribute('data-bars'))).toBe(6);
    await expect.poll(() => page.getByLabel('training time', { exact: true }).textContent()).toMatch(/e2e ramp/);

    // Tags and notes on the first run, then the tag filter.
    await page.getByRole('button', { name: 'e2e ramp' }).click();
    await page.getByLabel('new tag').fill('paper');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByLabel('notes').fill('λ ramps 0.05 → 0.2 with a one-epoch warm-up');
    await page.getByRole('button', { name: 'Save notes' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Save notes' }).isDisabled()).toBe(true);
    await page.getByLabel('tag filter').selectOption('paper');
    await expect.poll(() => page.getByLabel('runs').locator('tbody tr').count()).toBe(1);
    await page.getByLabel('tag filter').selectOption('');
    await expect.poll(() => page.getByLabel('runs').locator('tbody tr').count()).toBe(2);
    await screenshot(page, '5-runs-compare');
  });

  it('shows per-exit robustness and the accuracy-vs-MACs curve, and evaluates a run', async () => {
    await page.goto(`${app.url}#/robustness?run=${runIds[0]}`);
    await expect.poll(async () => Number(
      await page.getByLabel('Accuracy per exit under attack').getAttribute('data-bars'),
    ), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(async () => Number(await page.getByLabel(/^Accuracy vs\. MMACs/).getAttribute('data-points'))).toBeGreaterThan(0);
    await page.getByLabel('test images').fill('16');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    // The evaluation runs in a child process and its rows replace the training-time figures.
    await expect.poll(async () => (await page.getByLabel('robustness table').textContent()) ?? '', { timeout: 150_000 }).toMatch(/16 images/);
    expect(await page.getByRole('alert').count()).toBe(0);
    await screenshot(page, '6-robustness');
  });

  it('exports a trained model as TensorFlow.js and one exit as ONNX', async () => {
    await page.goto(`${app.url}#/export?run=${runIds[0]}`);
    await expect.poll(() => page.getByLabel('Destination (a new folder)').inputValue()).toContain('export-');
    const out = path.join(app.home, 'exported-tfjs');
    await page.getByLabel('Destination (a new folder)').fill(out);
    await page.getByRole('button', { name: 'Export' }).click();
    await expect.poll(() => page.getByLabel('export result').textContent(), { timeout: 60_000 }).toMatch(/model\.json/);
    expect(fs.existsSync(path.join(out, 'model.json'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8')).run.id).toBe(runIds[0]);

    await page.getByLabel('ONNX').check();
    await page.getByLabel('exit to export').selectOption('1');
    const onnx = path.join(app.home, 'exported-onnx-exit1');
    await page.getByLabel('Destination (a new folder)').fill(onnx);
    await page.getByRole('button', { name: 'Export' }).click();
    await expect.poll(() => page.getByLabel('export result').textContent(), { timeout: 60_000 }).toMatch(/model\.onnx/);
    expect(fs.existsSync(path.join(onnx, 'model.onnx'))).toBe(true);
    // Exporting to the same folder again is refused with a readable message.
    await page.getByRole('button', { name: 'Export' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'already exists' }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await screenshot(page, '7-export');
    expect(pageErrors).toEqual([]);
  });

  it('shows a study: its runs, the results table with the paper rows marked, the figures, and writes its report', async () => {
    // A study over the two runs trained above, as `exitlab study run` would have recorded it.
    const dir = path.join(app.home, 'studies', 'e2e');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'recipe.json'), JSON.stringify({
      name: 'e2e', dataset: 'synthetic', arms: [{ method: 'fgsm-me', label: 'with λ' }, { method: 'fgsm-me', lambda: 'zero', label: 'λ = 0' }],
    }));
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ formatVersion: 1, runs: { 'with-lambda-s0': runIds[0], 'lambda-0-s0': runIds[1] } }));
    await page.goto(`${app.url}#/studies`);
    await expect.poll(() => page.getByLabel('runs of the study').textContent(), { timeout: 30_000 }).toContain(runIds[1]);
    await expect.poll(() => page.getByLabel('results').textContent()).toMatch(/reported by Chen et al\. 2022/);
    expect(await page.locator('tr.paper').count()).toBe(6);
    // Each figure has a panel per run (PGD accuracy, then ‖W_fc‖ against epoch).
    await expect.poll(async () => Number(await page.getByLabel('with λ · seed 0', { exact: true }).first().getAttribute('data-points'))).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Write report files' }).click();
    await expect.poll(() => fs.existsSync(path.join(dir, 'report', 'index.html')), { timeout: 30_000 }).toBe(true);
    expect(fs.existsSync(path.join(dir, 'report', 'figures', 'overfitting.png'))).toBe(true);
    await screenshot(page, '8-studies');
    expect(pageErrors).toEqual([]);
  });
});
