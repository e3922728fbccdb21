// Data set methods: thin adapters over the data set modules (src-main/datasets), reporting the
// progress of imports and downloads to the renderer that asked.
import { listDatasets, removeDataset } from '../../datasets/catalog';
import { importDataset } from '../../datasets/importers';
import { downloadDataset } from '../../datasets/download';
import { datasetPreview } from '../../datasets/preview';
import type { Handlers } from '../dispatch';
import { jobProgress, type ApiContext } from '../context';
import { ApiError } from '../errors';

type DatasetHandlers = Pick<Handlers, 'datasets.list' | 'datasets.import' | 'datasets.download' | 'datasets.remove' | 'datasets.preview'>;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function datasetHandlers(ctx: ApiContext): DatasetHandlers {
  return {
    'datasets.list': () => listDatasets(ctx.home),
    'datasets.import': async ({ path, name, labels, jobId }) => {
      const progress = jobProgress(ctx, jobId);
      progress(null, `reading ${path}`);
      const manifest = await importDataset(ctx.home, path, { name, labels, onProgress: (message) => progress(null, message) });
      progress(1, `imported ${manifest.id}`);
      return manifest;
    },
    'datasets.download': async ({ source, labels, jobId }) => {
      const progress = jobProgress(ctx, jobId);
      progress(null, `connecting for ${source}`);
      const manifest = await downloadDataset(ctx.home, source, {
        labels,
        // A local mirror of the official files (offline machines, tests), as for the CLI.
        mirror: process.env.EXITLAB_DOWNLOAD_MIRROR || undefined,
        onDownload: (p) => {
          const got = p.received;
          progress(
            p.total ? got / p.total : null,
            `${p.file}: ${mb(got)}${p.total ? ` of ${mb(p.total)}` : ''}${p.resumedFrom ? ` (resumed at ${mb(p.resumedFrom)})` : ''}`,
          );
        },
        onProgress: (message) => progress(null, message),
      });
      progress(1, `imported ${manifest.id}`);
      return manifest;
    },
    'datasets.remove': ({ id }) => {
      if (id === 'synthetic') throw new ApiError('bad-request', 'the embedded synthetic data set cannot be removed (it is drawn again on first use)');
      removeDataset(ctx.home, id);
      return {};
    },
    'datasets.preview': ({ id, split, perClass }) => datasetPreview(ctx.home, id, perClass, split),
  };
}
