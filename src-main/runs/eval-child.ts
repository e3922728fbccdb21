// An evaluation, or a feature-distance measurement, in a forked Node process, so that the process
// that forks it is never blocked by it: the app's, which serves the UI, and a study's, which runs
// several runs at once. The parent sends one job (validated here on arrival), the child answers with
// progress and then the report or a failure (EvalChildEventSchema), over the one child host.
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { DatasetManifestSchema } from '../../src-shared/datasets';
import type { FeatureDistanceReport } from '../../src-shared/feature-distance';
import { EvalChildEventSchema, EvalRequestSchema, type EvalChildEvent, type EvaluationReport } from '../../src-shared/evaluation';
import { RunDetailSchema } from '../../src-shared/runs';
import { forkTransport, hostChild, moduleEntry } from '../engine/process/child-host';
import { NotEnoughMemoryError } from '../engine/parallel/memory';
import { EvaluationError, type PreparedEvaluation } from './eval-setup';
import { computeEvaluation, type EvalProgressFn } from './evaluate-run';
import { measureFeatureDistance } from './feature-distance-run';

export interface ChildJob<T> {
  done: Promise<T>;
  cancel(): void;
}

type JobKind = 'evaluation' | 'feature-distance';
/** What the parent sends: the job, the data folder and the request prepareEvaluation checked. */
const JobSchema = z.object({
  kind: z.enum(['evaluation', 'feature-distance']),
  home: z.string().min(1),
  prepared: z.object({ request: EvalRequestSchema, detail: RunDetailSchema, dataset: DatasetManifestSchema }),
  cores: z.number().int().positive().optional(),
});
type Job = { kind: JobKind; home: string; prepared: PreparedEvaluation; cores?: number };

const WHAT: Record<JobKind, string> = { evaluation: 'evaluation', 'feature-distance': 'feature-distance measurement' };

/** `result` picks the job's report out of its final event (null for a failure or the wrong report). */
function runInChild<T>(job: Job, result: (e: EvalChildEvent) => T | null, onProgress: EvalProgressFn): ChildJob<T> {
  const child = hostChild<Job, EvalChildEvent>(forkTransport(moduleEntry(__dirname, 'eval-child'), { ...process.env, EXITLAB_EVAL_CHILD: '1' }), {
    events: EvalChildEventSchema,
    isReady: (e) => e.type === 'ready',
    isFinal: (e) => e.type === 'done' || e.type === 'measured' || e.type === 'failed',
    onEvent: (e) => {
      if (e.type === 'progress') onProgress(e.progress);
    },
    onInvalid: (description) => onProgress({ fraction: null, message: `the ${WHAT[job.kind]} process sent an invalid message: ${description}` }),
    died: (d) => ({
      type: 'failed', user: false,
      message: `the ${WHAT[job.kind]} process ended (${d.how}) before it finished` +
        `${d.outOfMemory ? ', out of memory' : ''}${d.lastLine ? `: ${d.lastLine}` : ''}`,
    }),
  });
  child.send(job);
  const done = child.done.then((e) => {
    const report = result(e);
    if (report !== null) return report;
    const message = e.type === 'failed' ? e.message : `the ${WHAT[job.kind]} process ended with '${e.type}'`;
    throw e.type === 'failed' && e.user ? new EvaluationError(message) : new Error(message);
  });
  return { done, cancel: () => child.kill('SIGTERM') };
}

/**
 * Runs `computeEvaluation` in a forked Node process; progress comes back over IPC. `cores`: what a
 * request without workers may use (default: the machine's).
 */
export function computeEvaluationInChild(
  home: string, prepared: PreparedEvaluation, onProgress: EvalProgressFn = () => {}, cores?: number,
): ChildJob<EvaluationReport> {
  return runInChild({ kind: 'evaluation', home, prepared, cores }, (e) => (e.type === 'done' ? e.report : null), onProgress);
}

/** Runs `measureFeatureDistance` (which writes its report) in a forked Node process. */
export function measureFeatureDistanceInChild(
  home: string, prepared: PreparedEvaluation, onProgress: EvalProgressFn = () => {},
): ChildJob<FeatureDistanceReport> {
  return runInChild({ kind: 'feature-distance', home, prepared }, (e) => (e.type === 'measured' ? e.report : null), onProgress);
}

if (process.env.EXITLAB_EVAL_CHILD === '1' && typeof process.send === 'function' && require.main === module) {
  const send = (m: EvalChildEvent) => process.send!(m);
  process.once('message', (msg: unknown) => {
    Promise.resolve()
      .then(() => {
        const job = JobSchema.parse(msg);
        const onProgress: EvalProgressFn = (progress) => send({ type: 'progress', progress });
        return job.kind === 'evaluation'
          ? computeEvaluation(job.home, job.prepared, onProgress, job.cores).then((report) => send({ type: 'done', report }))
          : measureFeatureDistance(job.home, job.prepared, onProgress).then((report) => send({ type: 'measured', report }));
      })
      .catch((err: unknown) => {
        const user = err instanceof EvaluationError || err instanceof NotEnoughMemoryError;
        send({ type: 'failed', message: err instanceof Error ? err.message : String(err), user });
      })
      .finally(() => {
        tf.disposeVariables();
        process.disconnect?.();
      });
  });
  send({ type: 'ready' });
}
