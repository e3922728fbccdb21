// Parameters and MACs per exit of a model configuration, for the New run view. Building the layers
// graph is the only exact way to count them; the answer is cached per configuration.
import type { ModelSummary } from '../../../src-shared/engine-messages';
import type { Handlers } from '../dispatch';

const cache = new Map<string, ModelSummary>();

export function modelHandlers(): Pick<Handlers, 'model.describe'> {
  return {
    'model.describe': async ({ model, numClasses }) => {
      const key = JSON.stringify([model, numClasses]);
      const hit = cache.get(key);
      if (hit) return hit;
      // Loaded on first use: tfjs is heavy and most sessions never call this before training.
      const { buildMsdnetLayers } = await import('../../engine/model/msdnet');
      const built = buildMsdnetLayers(model, numClasses, 0);
      built.model.dispose();
      cache.set(key, built.summary);
      return built.summary;
    },
  };
}
