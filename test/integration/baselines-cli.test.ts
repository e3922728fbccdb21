// Each baseline trainer from the command line, on a tiny MSDNet and the synthetic set, through the
// real engine process: `exitlab train --method X … --json` ends with a completed summary, and the
// run store holds its training time (total and per epoch) for comparison with other methods.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunDetailSchema } from '../../src-shared/runs';
import { runCli } from '../helpers/cli';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-baselines-cli-'));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const TINY = [
  '--blocks', '2', '--step', '1', '--base', '1', '--channels', '4', '--growth-rate', '2', '--scales', '2', '--classifier-channels', '8',
  '--batch-size', '8', '--train-samples', '32', '--eval-samples', '8', '--max-batches', '2', '--epochs', '1', '--backend', 'wasm', '--seed', '3',
];

const cli = (...argv: string[]) => runCli(home, argv);
const lastJson = (s: string) => JSON.parse(s.trim().split('\n').pop()!);

describe('exitlab train with the baselines', () => {
  const cases: Array<{ method: string; extra: string[]; exits: number }> = [
    { method: 'pgd-at', extra: ['--pgd-steps', '2', '--exits', 'last'], exits: 1 },
    { method: 'fgsm-rs', extra: [], exits: 2 },
    { method: 'free', extra: ['--replays', '2'], exits: 2 },
    { method: 'trades', extra: ['--pgd-steps', '2', '--beta', '3'], exits: 2 },
  ];
  for (const c of cases) {
    it(`trains ${c.method} and records its training time`, async () => {
      const res = await cli('train', '--method', c.method, ...c.extra, ...TINY, '--json');
      expect(res.code, res.err).toBe(0);
      const summary = lastJson(res.out);
      expect(summary).toMatchObject({ type: 'summary', status: 'completed', method: c.method, epochs: 1, backend: 'wasm' });
      expect(summary.seconds).toBeGreaterThan(0);
      expect(summary.exits).toHaveLength(c.exits);
      // The engine's events came through: 2 training batches, then the epoch's metrics.
      const events = res.out.trim().split('\n').slice(0, -1).map((l) => JSON.parse(l));
      expect(events.some((e) => e.type === 'progress' && e.phase === 'train' && e.batch === 2)).toBe(true);

      const detail = RunDetailSchema.parse(lastJson((await cli('runs', 'show', summary.runId, '--json')).out));
      expect(detail.config).toMatchObject({ method: c.method });
      expect(detail.summary).toMatchObject({ status: 'completed', epochsDone: 1 });
      expect(detail.summary.seconds).toBeCloseTo(summary.seconds, 3);
      expect(detail.epochs).toHaveLength(1);
      expect(detail.epochs[0].seconds).toBeGreaterThan(0);
      expect(detail.epochs[0].seconds).toBeLessThanOrEqual(detail.summary.seconds);
    }, 120_000);
  }

  it('lists the baselines in --help', async () => {
    const res = await cli('train', '--help');
    expect(res.code).toBe(0);
    for (const flag of ['pgd-at', 'fgsm-rs', 'free', 'trades', '--pgd-steps', '--beta', '--replays', '--early-stop', '--exits']) {
      expect(res.out).toContain(flag);
    }
  });
});
