// Model export through the export module (src-main/export), which reads the run from the store.
import { exportRun } from '../../export/run-export';
import type { Handlers } from '../dispatch';
import { jobProgress, type ApiContext } from '../context';

export function exportHandlers(ctx: ApiContext): Pick<Handlers, 'export.model'> {
  return {
    'export.model': async ({ jobId, ...request }) => {
      const progress = jobProgress(ctx, jobId);
      progress(null, `exporting ${request.exit === null ? 'the whole network' : `exit ${request.exit}`} as ${request.format}`);
      const result = await exportRun(ctx.home, ctx.runs.store, request);
      progress(1, `written to ${result.out}`);
      ctx.hub.emit('runs.changed', { runId: request.runId });
      return { out: result.out, files: result.files };
    },
  };
}
