// The Robustness view's evaluation request: worker threads are left to the engine (one per core)
// unless the user types a number, and a number outside the schema's range blocks the request.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import type { ExitLabApi, RunDetail, RunSummary } from '../../src-shared/api';
import { MAX_WORKERS } from '../../src-shared/config';
import { setApi } from '../../src-renderer/src/lib/api';
import { router } from '../../src-renderer/src/lib/router.svelte';
import RobustnessView from '../../src-renderer/src/views/RobustnessView.svelte';

const summary = { id: 'run-a', name: 'ramp', method: 'fgsm-me', status: 'completed', epochsDone: 1 } as RunSummary;

function fakeApi() {
  // A partial RunDetail: the view reads only these fields.
  const detail = {
    summary, epochs: [], evaluations: [], config: { eps: 8, evalSamples: 200 }, modelSummary: { exits: 2, perExit: [] },
  } as unknown as RunDetail;
  const requests: Array<Record<string, unknown>> = [];
  const api = {
    invoke: async (method: string, request: Record<string, unknown>) => {
      if (method === 'runs.list') return [summary];
      if (method === 'runs.get') return detail;
      if (method === 'eval.run') {
        requests.push(request);
        return [];
      }
      throw new Error(`unexpected ${method}`);
    },
    on: () => () => {},
  };
  // Three of the contract's methods, untyped: the view calls no others.
  return { api: api as unknown as ExitLabApi, requests };
}

describe('the Robustness view', () => {
  afterEach(() => {
    cleanup();
    setApi(null);
  });

  it('asks for one worker per core unless a number of threads is typed, and refuses one out of range', async () => {
    const fake = fakeApi();
    setApi(fake.api);
    router.go('robustness', { run: 'run-a' });
    render(RobustnessView);
    const evaluate = (await screen.findByRole('button', { name: 'Evaluate' })) as HTMLButtonElement;
    const threads = screen.getByLabelText('worker threads') as HTMLInputElement;
    await waitFor(() => expect(evaluate.disabled).toBe(false));

    await fireEvent.click(evaluate);
    await waitFor(() => expect(fake.requests).toHaveLength(1));
    expect(fake.requests[0]).toMatchObject({ runId: 'run-a', workers: null });

    await fireEvent.input(threads, { target: { value: '2' } });
    await waitFor(() => expect(evaluate.disabled).toBe(false));
    await fireEvent.click(evaluate);
    await waitFor(() => expect(fake.requests).toHaveLength(2));
    expect(fake.requests[1].workers).toBe(2);

    for (const bad of ['0', String(MAX_WORKERS + 1), '1.5']) {
      await fireEvent.input(threads, { target: { value: bad } });
      await waitFor(() => expect(evaluate.disabled).toBe(true));
      expect(screen.getByText(/a whole number from 1 to/)).toBeTruthy();
    }
    await fireEvent.input(threads, { target: { value: '' } });
    await waitFor(() => expect(evaluate.disabled).toBe(false));
  });
});
