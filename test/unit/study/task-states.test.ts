// A cell's task state from what is known of it: Slurm's word first, then the task's marker and log.
import { describe, expect, it } from 'vitest';
import type { TaskMarker } from '../../../src-shared/slurm';
import { resolveCell, type CellFacts } from '../../../src-main/study/slurm/task-states';

const job = { arrayJobId: '12', taskId: '1', jobId: '14' };
const base = { cell: 'a-s0', job };
const running: TaskMarker = { ...base, state: 'running', host: 'n1', pid: 7, startedAt: 't', runId: 'r1', startEpoch: 1, epochsDone: 2 };
const completed: TaskMarker = { ...base, state: 'completed', finishedAt: 't', runId: 'r1', bundle: { file: 'run.exitlab', bytes: 9, sha256: 'a'.repeat(64) } };
const facts = (f: Partial<CellFacts>): CellFacts => ({
  job: '12_1', marker: null, reported: null, readLog: () => null, collected: false, accounting: 'no accounting', arrayKnown: false, ...f,
});

describe('resolveCell', () => {
  it("takes Slurm's word while Slurm knows the job, with the running task's epochs", () => {
    expect(resolveCell(facts({ marker: running, reported: { word: 'RUNNING', reason: null, source: 'slurm' } })))
      .toMatchObject({ state: 'running', source: 'slurm', detail: 'RUNNING', epochsDone: 2 });
    expect(resolveCell(facts({ reported: { word: 'PENDING', reason: 'Resources', source: 'slurm' } })))
      .toMatchObject({ state: 'pending', detail: 'PENDING (Resources)' });
    expect(resolveCell(facts({ reported: { word: 'TIMEOUT', reason: null, source: 'accounting' } })))
      .toMatchObject({ state: 'timed-out', source: 'accounting' });
  });

  it('calls a COMPLETED job without a finished bundle failed', () => {
    expect(resolveCell(facts({ marker: running, reported: { word: 'COMPLETED', reason: null, source: 'slurm' } })))
      .toMatchObject({ state: 'failed', detail: 'COMPLETED, but it left no finished bundle' });
    expect(resolveCell(facts({ marker: completed, reported: { word: 'COMPLETED', reason: null, source: 'slurm' } })).state).toBe('completed');
  });

  it('falls back to the marker and the log once Slurm has forgotten the job', () => {
    expect(resolveCell(facts({ marker: completed }))).toMatchObject({ state: 'completed', source: 'marker' });
    const log = () => 'slurmstepd: error: *** JOB 14 ON n1 CANCELLED AT 2026-12-03T10:00:00 DUE TO TIME LIMIT ***';
    expect(resolveCell(facts({ marker: { ...base, state: 'stopped', finishedAt: 't', runId: 'r1' }, readLog: log })).state).toBe('timed-out');
    expect(resolveCell(facts({ marker: { ...base, state: 'failed', finishedAt: 't', runId: 'r1', message: 'engine-died: oom' } })))
      .toMatchObject({ state: 'failed', detail: 'engine-died: oom' });
    expect(resolveCell(facts({ marker: running }))).toMatchObject({ state: 'failed', detail: expect.stringMatching(/ended without finishing its marker .*Slurm no longer knows job 12_1 \(no accounting\)/) });
  });

  it('takes a task missing from an array Slurm still knows, that never started, for one cancelled while pending', () => {
    expect(resolveCell(facts({ arrayKnown: true }))).toMatchObject({ state: 'cancelled', detail: 'removed from the queue before it started (scancel)' });
    expect(resolveCell(facts({ arrayKnown: true, marker: running })).state).toBe('failed');
  });

  it("ignores an earlier task's marker, and says so when nothing is known", () => {
    const older = { ...running, job: { ...job, arrayJobId: '9' } };
    expect(resolveCell(facts({ marker: older }))).toMatchObject({ state: 'unknown', source: 'none', epochsDone: null });
    expect(resolveCell(facts({ job: null }))).toMatchObject({ state: 'not-submitted', job: null });
  });
});
