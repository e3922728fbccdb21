// The job script: the sbatch options as #SBATCH lines, and the exact command of every array task.
import { describe, expect, it } from 'vitest';
import { SlurmOptionsSchema } from '../../../src-shared/slurm';
import { checkStudyRecipe } from '../../../src-shared/study';
import { jobScript } from '../../../src-main/study/slurm/job-script';

const { recipe, cells } = checkStudyRecipe({
  name: 'grid', dataset: 'synthetic', train: { epochs: 1, model: { blocks: 2 } },
  arms: [{ method: 'fgsm-me' }, { method: 'fgsm-me', lambda: 'zero' }], seeds: [0, 1],
});

describe('the job script', () => {
  it("holds the options, the array of the cells submitted and each task's command", () => {
    const options = SlurmOptionsSchema.parse({
      partition: 'gpu', time: '1-02:00:00', cpusPerTask: 4, mem: '16G', gres: 'gpu:1', account: 'lab', qos: 'normal', sbatchArgs: ['--constraint=a100'],
    });
    const script = jobScript({ recipe, cells, indices: [1, 2, 3], shared: '/scratch/x', repo: "/opt/exit lab's", options });
    const lines = script.split('\n');
    expect(lines[0]).toBe('#!/bin/bash');
    expect(lines.filter((l) => l.startsWith('#SBATCH'))).toEqual([
      '#SBATCH --job-name=exitlab-grid', '#SBATCH --array=1-3', '#SBATCH --chdir=/scratch/x/studies/grid',
      '#SBATCH --output=/scratch/x/studies/grid/logs/%A_%a.out',
      '#SBATCH --partition=gpu', '#SBATCH --account=lab', '#SBATCH --qos=normal', '#SBATCH --time=1-02:00:00', '#SBATCH --cpus-per-task=4', '#SBATCH --mem=16G',
      '#SBATCH --gres=gpu:1', '#SBATCH --constraint=a100',
    ]);
    // Every cell keeps its own case (the index is its place in the grid), whichever are submitted.
    expect(lines).toContain(`  0) exec node '/opt/exit lab'\\''s/bin/exitlab.js' study task grid --cell fgsm-me-s0 --shared-dir /scratch/x ;;`);
    expect(lines).toContain(`  3) exec node '/opt/exit lab'\\''s/bin/exitlab.js' study task grid --cell fgsm-me-lambda-0-s1 --shared-dir /scratch/x ;;`);
  });

  it('refuses options that are not what sbatch takes, or that the script sets itself', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ time: '2 hours' }, /time limit/], [{ mem: '16 GB' }, /memory/], [{ cpusPerTask: 0 }, /cpusPerTask|>=1|too small/i], [{ partition: 'a b' }, /partition/],
      [{ sbatchArgs: ['--array=0-3'] }, /sets --array/], [{ sbatchArgs: ['-o', 'x'] }, /sets --array/], [{ sbatchArgs: ['--begin=now\n#SBATCH --x'] }, /one line/], [{ sbatchArgs: ['constraint=a'] }, /starting with "-"/],
    ];
    for (const [input, message] of bad) {
      const r = SlurmOptionsSchema.safeParse(input);
      expect(r.success, JSON.stringify(input)).toBe(false);
      expect(r.error!.issues[0].message, JSON.stringify(input)).toMatch(message);
    }
  });
});
