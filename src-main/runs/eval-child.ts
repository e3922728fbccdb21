// The app's evaluation runs in a forked Node process so that the process serving the UI is never
// blocked by it: the parent sends one job (validated here on arrival), the child answers with
// progress and then the report or a failure (EvalChildEventSchema), over the one child host.
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { DatasetManifestSchema } from '../../src-shared/datasets';
import { EvalChildEventSchema, EvalRequestSchema, type EvalChildEvent, type EvaluationReport } from '../../src-shared/evaluation';
import { RunDetailSchema } from '../../src-shared/runs';
import { forkTransport, hostChild, moduleEntry } from '../engine/process/child-host';
import { NotEnoughMemoryError } from '../engine/parallel/memory';
import { EvaluationError, type PreparedEvaluation } from './eval-setup';
import { computeEvaluation, type EvalProgressFn } from './evaluate-run';

export interface ChildEvaluation {
  done: Promise<EvaluationReport>;
  cancel(): void;
}

/** Runs `computeEvaluation` in a forked Node process; progress comes back over IPC. */
export function computeEvaluationInChild(
  home: string, prepared: PreparedEvaluation, onProgress: EvalProgressFn = () => {}, env: NodeJS.ProcessEnv = process.env,
): ChildEvaluation {
  const child = hostChild<ChildJob, EvalChildEvent>(forkTransport(moduleEntry(__dirname, 'eval-child'), { ...env, EXITLAB_EVAL_CHILD: '1' }), {
    events: EvalChildEventSchema,
    isReady: (e) => e.type === 'ready',
    isFinal: (e) => e.type === 'done' || e.type === 'failed',
    onEvent: (e) => {
      if (e.type === 'progress') onProgress(e.progress);
    },
    onInvalid: (description) => onProgress({ fraction: null, message: `the evaluation process sent an invalid message: ${description}` }),
    died: (d) => ({
      type: 'failed', user: false,
      message: `the evaluation process ended (${d.how}) before it finished${d.outOfMemory ? ', out of memory' : ''}${d.lastLine ? `: ${d.lastLine}` : ''}`,
    }),
  });
  child.send({ home, prepared });
  const done = child.done.then((e) => {
    if (e.type === 'done') return e.report;
    const message = e.type === 'failed' ? e.message : `the evaluation process ended with '${e.type}'`;
    throw e.type === 'failed' && e.user ? new EvaluationError(message) : new Error(message);
  });
  return { done, cancel: () => child.kill('SIGTERM') };
}

/** What the parent sends: the data folder and the request prepareEvaluation checked. */
const ChildJobSchema = z.object({
  home: z.string().min(1),
  prepared: z.object({ request: EvalRequestSchema, detail: RunDetailSchema, dataset: DatasetManifestSchema }),
});
type ChildJob = { home: string; prepared: PreparedEvaluation };

if (process.env.EXITLAB_EVAL_CHILD === '1' && typeof process.send === 'function' && require.main === module) {
  const send = (m: EvalChildEvent) => process.send!(m);
  process.once('message', (msg: unknown) => {
    Promise.resolve()
      .then(() => {
        const job = ChildJobSchema.parse(msg);
        return computeEvaluation(job.home, job.prepared, (progress) => send({ type: 'progress', progress }));
      })
      .then((report) => send({ type: 'done', report }))
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
