// What the handlers need from the process that serves them (Electron main or the browser-mode server).
import type { z } from 'zod';
import type { PickPathRequestSchema } from '../../src-shared/api';
import type { EventHub } from './events';
import type { LiveRuns } from './live-runs';
import type { RunService } from '../runs/service';

export interface ApiContext {
  /** The data folder (EXITLAB_HOME). */
  home: string;
  mode: 'electron' | 'browser';
  version: string;
  hub: EventHub;
  live: LiveRuns;
  /** Owner of the run store: starts engines, records runs, answers queries. */
  runs: RunService;
  /** Native dialogs; absent in browser mode, where the renderer shows path fields instead. */
  pickPath?: (request: z.infer<typeof PickPathRequestSchema>) => Promise<string | null>;
}

/** Reports progress of long work to the renderer that asked for it (when it passed a jobId). */
export function jobProgress(ctx: ApiContext, jobId: string | undefined): (fraction: number | null, message: string) => void {
  return (fraction, message) => {
    if (jobId) ctx.hub.emit('job.progress', { jobId, fraction: fraction === null ? null : Math.min(1, Math.max(0, fraction)), message });
  };
}
