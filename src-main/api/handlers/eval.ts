// Robustness evaluation through the same service as `exitlab eval` (src-main/runs/evaluate-run.ts).
// The request is checked here (unknown run, no checkpoint, … answer at once and write nothing); the
// attacks then run in a child process, reporting progress as job.progress events, so the process
// serving the UI is never blocked by them; the result is recorded here, by the store's owner.
import { z } from 'zod';
import { describeZodError } from '../../../src-shared/config';
import { EvaluationError, prepareEvaluation } from '../../runs/evaluate-run';
import { computeEvaluationInChild } from '../../runs/eval-child';
import { recordEvaluation } from '../../runs/eval-record';
import { UnknownRunError, StoreError } from '../../store/run-store';
import type { Handlers } from '../dispatch';
import { jobProgress, type ApiContext } from '../context';
import { ApiError } from '../errors';

export function evalHandlers(ctx: ApiContext): Pick<Handlers, 'eval.run'> {
  return {
    'eval.run': async ({ jobId, ...request }) => {
      const progress = jobProgress(ctx, jobId);
      let prepared;
      try {
        prepared = prepareEvaluation(ctx.home, ctx.runs.store, { ...request, attacks: request.attacks, batchSize: 64 });
      } catch (err) {
        if (err instanceof UnknownRunError) throw new ApiError('not-found', err.message);
        if (err instanceof EvaluationError || err instanceof StoreError) throw new ApiError('bad-request', err.message);
        if (err instanceof z.ZodError) throw new ApiError('bad-request', `eval.run: ${describeZodError(err)}`);
        throw err;
      }
      progress(0, `evaluating run ${request.runId}: ${request.attacks.join(', ')} on ${request.samples} test images`);
      let report;
      try {
        report = await computeEvaluationInChild(ctx.home, prepared, (p) => progress(p.fraction, p.message)).done;
      } catch (err) {
        if (err instanceof EvaluationError) throw new ApiError('bad-request', err.message);
        throw err;
      }
      const recorded = recordEvaluation(ctx.home, ctx.runs.store, report);
      progress(
        1,
        `recorded ${recorded.evaluations.length} evaluation(s)${report.warnings.length ? `; ${report.warnings.length} warning(s): ${report.warnings[0]}` : ''}`,
      );
      ctx.hub.emit('runs.changed', { runId: request.runId });
      return recorded.evaluations;
    },
  };
}
