// Data set methods: thin adapters over the data set catalog (src-main/datasets).
import { listDatasets, removeDataset } from '../../datasets/catalog';
import type { Handlers } from '../dispatch';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';

type DatasetHandlers = Pick<Handlers, 'datasets.list' | 'datasets.import' | 'datasets.download' | 'datasets.remove' | 'datasets.preview'>;

export function datasetHandlers(ctx: ApiContext): DatasetHandlers {
  return {
    'datasets.list': () => listDatasets(ctx.home),
    'datasets.remove': ({ id }) => {
      if (id === 'synthetic') throw new ApiError('bad-request', 'the embedded synthetic data set cannot be removed (it is drawn again on first use)');
      removeDataset(ctx.home, id);
      return {};
    },
    // PENDING(datasets helper): import, download and preview plug in here as their modules land.
    'datasets.import': () => {
      throw new ApiError('unavailable', 'importing data sets is not available yet');
    },
    'datasets.download': () => {
      throw new ApiError('unavailable', 'downloading data sets is not available yet');
    },
    'datasets.preview': () => {
      throw new ApiError('unavailable', 'data set previews are not available yet');
    },
  };
}
