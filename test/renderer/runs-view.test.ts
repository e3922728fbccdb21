import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import type { ExitLabApi, RunDetail, RunSummary } from '../../src-shared/api';
import { setApi } from '../../src-renderer/src/lib/api';
import { router } from '../../src-renderer/src/lib/router.svelte';
import RunsView from '../../src-renderer/src/views/RunsView.svelte';

const summary: RunSummary = {
  id: 'run-a', name: 'ramp', dataset: 'synthetic', method: 'fgsm-me', model: 'msdnet 2×1, 4ch', backend: 'cpu',
  backendUsed: 'cpu', codeVersion: 'test', seed: 1, status: 'completed', createdAt: '2026-11-25T10:00:00Z',
  startedAt: null, finishedAt: null, seconds: 3, epochsDone: 1, epochs: 1, failure: null, tags: [], lastEpoch: null,
};

/** A store of one run whose `runs.update` answers only when the test releases it. */
function fakeApi() {
  // A partial RunDetail (an empty config): the view reads only these fields.
  let detail = {
    summary, notes: '', epochs: [], evaluations: [], checkpoints: [], artefacts: [], config: {}, modelSummary: null, dataset: null,
  } as unknown as RunDetail;
  const pending: (() => void)[] = [];
  const api = {
    invoke: async (method: string, request: { tags?: string[]; addTags?: string[]; notes?: string }) => {
      if (method === 'runs.list') return [detail.summary];
      if (method === 'runs.get') return detail;
      if (method === 'runs.update') {
        await new Promise<void>((resolve) => pending.push(resolve));
        detail = {
          ...detail,
          notes: request.notes ?? detail.notes,
          summary: { ...detail.summary, tags: [...detail.summary.tags, ...(request.addTags ?? [])] },
        };
        return detail;
      }
      throw new Error(`unexpected ${method}`);
    },
    on: () => () => {},
  };
  // Three of the contract's methods, untyped: the view calls no others.
  return { api: api as unknown as ExitLabApi, release: () => pending.splice(0).forEach((r) => r()) };
}

describe('the Runs view', () => {
  afterEach(() => {
    cleanup();
    setApi(null);
  });

  it('keeps notes typed while a tag is being saved, and saves them after', async () => {
    const fake = fakeApi();
    setApi(fake.api);
    router.go('runs', { run: 'run-a' });
    render(RunsView);
    const notes = (await screen.findByLabelText('notes')) as HTMLTextAreaElement;
    const save = () => screen.getByRole('button', { name: 'Save notes' }) as HTMLButtonElement;

    await fireEvent.input(screen.getByLabelText('new tag'), { target: { value: 'paper' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add tag' }));
    await fireEvent.input(notes, { target: { value: 'warm-up of one epoch' } });
    fake.release();
    await screen.findByText('paper', { selector: '.run-detail .tag', exact: false });

    expect(notes.value).toBe('warm-up of one epoch');
    expect(save().disabled).toBe(false);
    await fireEvent.click(save());
    fake.release();
    await waitFor(() => expect(save().disabled).toBe(true));
    expect(notes.value).toBe('warm-up of one epoch');
  });
});
