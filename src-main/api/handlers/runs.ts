// Run methods: starting and steering live runs, and the stored runs (through the run service,
// which owns the store).
import type { Handlers } from '../dispatch';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { availableIds } from '../../datasets/catalog';
import { compareRuns } from '../../store/compare';
import { UnknownRunError } from '../../store/run-store';

type RunHandlers = Pick<
  Handlers, 'runs.start' | 'runs.control' | 'runs.live' | 'runs.list' | 'runs.get' | 'runs.update' | 'runs.delete' | 'runs.resume' | 'runs.compare'
>;

/** Unknown run ids become 'not-found' answers; other errors keep their message. */
function known<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof UnknownRunError) throw new ApiError('not-found', err.message);
    throw err;
  }
}

export function runHandlers(ctx: ApiContext): RunHandlers {
  const store = () => ctx.runs.store;
  return {
    'runs.start': async ({ config, name, tags, notes }) => {
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
      const runId = ctx.live.start(config, { name: name?.trim() || undefined, tags, note: notes });
      return { runId };
    },
    'runs.control': ({ runId, action }) => {
      ctx.live.control(runId, action);
      return {};
    },
    'runs.live': () => ctx.live.list(),
    'runs.list': ({ filter }) => store().listRuns(filter),
    'runs.get': ({ runId }) => known(() => store().getRun(runId)),
    'runs.update': ({ runId, name, addTags, removeTags, notes }) =>
      known(() => {
        if (name !== undefined) store().rename(runId, name.trim());
        if (addTags.length || removeTags.length) store().tag(runId, addTags, removeTags);
        if (notes !== undefined) store().setNote(runId, notes);
        ctx.hub.emit('runs.changed', { runId });
        return store().getRun(runId);
      }),
    'runs.delete': ({ runId }) =>
      known(() => {
        ctx.runs.delete(runId);
        ctx.hub.emit('runs.changed', { runId });
        return {};
      }),
    'runs.resume': ({ runId }) =>
      known(() => {
        const detail = store().getRun(runId);
        return { runId: ctx.live.resume(runId, { config: detail.config, name: detail.summary.name, tags: detail.summary.tags }) };
      }),
    'runs.compare': ({ runIds }) => {
      if (new Set(runIds).size !== runIds.length) throw new ApiError('bad-request', 'the same run is selected twice');
      return known(() => compareRuns(store().getRuns(runIds)));
    },
  };
}
