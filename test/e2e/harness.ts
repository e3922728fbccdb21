// Starts the browser mode on a fresh data folder and drives Debian's Chromium with playwright-core.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const repoRoot = path.resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface AppServer {
  url: string;
  home: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

/** `node dist/src-main/api/browser-main.js` on a free port; resolves once it prints its address. */
export async function startApp(): Promise<AppServer> {
  const entry = path.join(repoRoot, 'dist', 'src-main', 'api', 'browser-main.js');
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  if (!fs.existsSync(path.join(repoRoot, 'dist-renderer', 'index.html'))) throw new Error('dist-renderer is missing: run `npm run build:renderer` first');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-e2e-'));
  const child = spawn(process.execPath, [entry, '--port', '0', '--home', home], {
    cwd: repoRoot,
    env: { ...process.env, EXITLAB_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the browser mode did not start within 30 s:\n${out}`)), 30_000);
    const check = () => {
      const m = /browser mode: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the browser mode exited (${code}) before starting:\n${out}`));
    });
  });
  return {
    url,
    home,
    process: child,
    output: () => out,
    // SIGTERM is the graceful path: live runs stop on a checkpoint, then the server exits.
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Chromium with a fresh profile (a new --user-data-dir each time); close() removes nothing else. */
export async function launchChromium(): Promise<{ context: BrowserContext; userDataDir: string }> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    viewport: { width: 1440, height: 960 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { context, userDataDir };
}

const screenshotDir = () => path.resolve(process.env.SCREENSHOT_DIR || path.join(repoRoot, 'test-results', 'screenshots'));

export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = screenshotDir();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Writes the first `count` images of a stored data set as one file in the CIFAR-10 binary record
 * layout (1 label byte, then the R, G and B planes of 32x32 pixels), the layout the importer reads.
 */
export function writeCifarBin(home: string, datasetId: string, count: number, file: string): void {
  const dir = path.join(home, 'datasets', datasetId);
  const images = fs.readFileSync(path.join(dir, 'train.images.u8'));
  const labels = fs.readFileSync(path.join(dir, 'train.labels.u8'));
  const n = Math.min(count, labels.length);
  const out = Buffer.alloc(n * 3073);
  for (let i = 0; i < n; i++) {
    const rec = i * 3073;
    out[rec] = labels[i];
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) out[rec + 1 + c * 1024 + p] = images[i * 3072 + p * 3 + c];
    }
  }
  fs.writeFileSync(file, out);
}
