// Run methods: starting and steering live runs (LiveRuns), and the stored runs (the run service).
import type { Handlers } from '../dispatch';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { availableIds } from '../../datasets/catalog';

type RunHandlers = Pick<Handlers, 'runs.start' | 'runs.control' | 'runs.live' | 'runs.list' | 'runs.get' | 'runs.update' | 'runs.delete' | 'runs.resume' | 'runs.compare'>;

const unavailable = () => {
  throw new ApiError('unavailable', 'the run store is not available yet');
};

export function runHandlers(ctx: ApiContext): RunHandlers {
  return {
    'runs.start': async ({ config, name, tags }) => {
      // Check everything the engine would reject before a process is started for it.
      const { resolveTrainConfig, ConfigError } = await import('../../engine/train/resolve-config');
      try {
        resolveTrainConfig(config);
      } catch (err) {
        if (err instanceof ConfigError) throw new ApiError('bad-request', err.message);
        throw err;
      }
      const ids = availableIds(ctx.home);
      if (!ids.includes(config.dataset)) throw new ApiError('bad-request', `unknown data set '${config.dataset}' (available: ${ids.join(', ')})`);
      const runId = await ctx.live.start({ config, name: name?.trim() || `${config.method} on ${config.dataset}`, tags: tags ?? [] });
      return { runId };
    },
    'runs.control': ({ runId, action }) => {
      ctx.live.control(runId, action);
      return {};
    },
    'runs.live': () => ctx.live.list(),
    // PENDING(store helper): the stored-run queries plug in here as src-main/runs/service.ts lands.
    'runs.list': unavailable,
    'runs.get': unavailable,
    'runs.update': unavailable,
    'runs.delete': unavailable,
    'runs.resume': unavailable,
    'runs.compare': unavailable,
  };
}
