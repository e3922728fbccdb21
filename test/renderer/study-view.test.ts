// The Study view of a study run on Slurm: each run's task state and job beside its state here, and
// Collect, which imports the finished bundles and shows what it did.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import type { ExitLabApi } from '../../src-shared/api';
import type { SlurmCell, StudyCollectResult } from '../../src-shared/slurm';
import { checkStudyRecipe, type StudyView } from '../../src-shared/study';
import { setApi } from '../../src-renderer/src/lib/api';
import { router } from '../../src-renderer/src/lib/router.svelte';
import StudyViewComponent from '../../src-renderer/src/views/StudyView.svelte';

const { recipe } = checkStudyRecipe({
  name: 'tiny', dataset: 'synthetic', train: { epochs: 2, model: { blocks: 2 } }, arms: [{ method: 'fgsm-me' }, { method: 'fgsm-me', lambda: 'zero' }],
});
const task = (state: SlurmCell['state'], job: string, collected = false): SlurmCell => ({
  state, job, source: 'slurm', detail: state.toUpperCase(), collected, epochsDone: null,
});
const view = (collected: boolean): StudyView => ({
  recipe,
  cells: [
    {
      key: 'fgsm-me-s0', label: 'fgsm-me', seed: 0, method: 'fgsm-me', runId: collected ? 'run-a' : null, state: collected ? 'evaluated' : 'pending',
      epochsDone: collected ? 2 : 0, epochs: 2, trainingSeconds: null, slurm: task('completed', '12_0', collected),
    },
    {
      key: 'fgsm-me-lambda-0-s0', label: 'fgsm-me λ=0', seed: 0, method: 'fgsm-me', runId: null, state: 'pending',
      epochsDone: 0, epochs: 2, trainingSeconds: null, slurm: task('cancelled', '12_1'),
    },
  ],
  slurm: { sharedDir: '/scratch/x' },
  table: { header: ['Arm'], rows: [] },
  notes: [],
  figures: [],
});

function fakeApi() {
  let collected = false;
  const calls: string[] = [];
  const api = {
    invoke: async (method: string) => {
      calls.push(method);
      if (method === 'studies.list') return [{ name: 'tiny', description: '', dataset: 'synthetic', runs: 2, evaluated: collected ? 1 : 0 }];
      if (method === 'studies.get') return view(collected);
      if (method === 'studies.collect') {
        collected = true;
        return {
          imported: [{ key: 'fgsm-me-s0', runId: 'run-a' }], alreadyCollected: [],
          skipped: [{ key: 'x-s0', reason: 'bundle does not match its checksum' }], waiting: ['fgsm-me-lambda-0-s0'],
        } satisfies StudyCollectResult;
      }
      throw new Error(`unexpected ${method}`);
    },
    on: () => () => {},
  };
  // A partial fake: only the methods these tests drive (studies.list, .get, .collect) behind one untyped
  // `invoke`, and an `on` that never fires, so it cannot meet ExitLabApi's generic per-method signatures.
  return { api: api as unknown as ExitLabApi, calls };
}

describe('the Study view of a study on Slurm', () => {
  afterEach(() => {
    cleanup();
    setApi(null);
  });

  it("shows each run's Slurm state and job, and Collect imports the finished runs", async () => {
    const fake = fakeApi();
    setApi(fake.api);
    router.go('studies', { study: 'tiny' });
    render(StudyViewComponent);
    const runs = await screen.findByLabelText('runs of the study');
    await within(runs).findByText('12_1');
    const rows = within(runs).getAllByRole('row').map((r) => [...r.querySelectorAll('th, td')].map((c) => c.textContent!.trim()));
    expect(rows[0].slice(0, 5)).toEqual(['Arm', 'Seed', 'State', 'Slurm', 'Job']);
    expect(rows[1].slice(0, 5)).toEqual(['fgsm-me', '0', 'pending', 'completed', '12_0']);
    expect(rows[2].slice(0, 5)).toEqual(['fgsm-me λ=0', '0', 'pending', 'cancelled', '12_1']);
    expect(screen.getByText('/scratch/x')).toBeTruthy();

    await fireEvent.click(screen.getByRole('button', { name: 'Collect' }));
    expect((await screen.findByRole('status')).textContent).toMatch(/Imported 1 run\(s\): fgsm-me-s0\.\s+Not finished yet: fgsm-me-lambda-0-s0\./);
    expect(screen.getByRole('alert').textContent).toBe('Skipped x-s0: bundle does not match its checksum');
    await within(runs).findByText('run-a');
    expect(fake.calls.filter((m) => m === 'studies.collect')).toHaveLength(1);
  });
});
