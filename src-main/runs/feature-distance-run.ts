// The clean-vs-adversarial feature distance of a stored run (engine/eval/feature-distance.ts), on
// the same images, radius, checkpoint and seed as an evaluation request, written beside the run's
// evaluation reports as feature-distance.json (the latest measurement; a study reads it back).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exitCountOf, type TrainConfig } from '../../src-shared/config';
import type { EvalRequest } from '../../src-shared/evaluation';
import { FeatureDistanceReportSchema, type FeatureDistanceReport } from '../../src-shared/feature-distance';
import { locateDataset } from '../datasets/catalog';
import { readSplit } from '../datasets/store';
import { featureDistances } from '../engine/eval/feature-distance';
import { exitFeatures } from '../engine/model/exit-features';
import { writeFileAtomically } from '../temp-files';
import { runNetwork, toImages, type PreparedEvaluation } from './eval-setup';
import type { EvalProgressFn } from './evaluate-run';
import { REPORTS_DIR, runDirOf } from './paths';

/** Single-exit networks keep only the last block's exit. */
const exitBlocks = (config: TrainConfig): number[] =>
  (exitCountOf(config) === 1 ? [config.model.blocks] : Array.from({ length: config.model.blocks }, (_, b) => b + 1));

const fileOf = (home: string, runId: string) => path.join(runDirOf(home, runId), REPORTS_DIR, 'feature-distance.json');

/** The run's feature-distance measurement if it answers the request (images, radius, checkpoint, seed). */
export function findFeatureDistance(home: string, request: EvalRequest): FeatureDistanceReport | null {
  const file = fileOf(home, request.runId);
  if (!fs.existsSync(file)) return null;
  const parsed = FeatureDistanceReportSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) return null;
  const r = parsed.data;
  return r.samples === request.samples && r.eps === request.eps && r.checkpoint === request.checkpoint && r.seed === request.seed ? r : null;
}

/** Measures and writes the report; `prepared` is what prepareEvaluation checked (in this process or a parent). */
export async function measureFeatureDistance(
  home: string,
  prepared: PreparedEvaluation,
  onProgress: EvalProgressFn = () => {},
): Promise<FeatureDistanceReport> {
  const { request } = prepared;
  // Loading it registers the wasm backend: only in a process that does engine work (the CLI).
  const { selectBackend } = await import('../engine/backends/select');
  await selectBackend(request.backend);
  const { net, dataset, checkpoint } = runNetwork(home, prepared);
  const extractor = exitFeatures(net, dataset);
  try {
    const { dir, manifest } = locateDataset(home, dataset.id);
    const test = readSplit(dir, manifest, 'test');
    const images = toImages(test.images, test.labels, 0, request.samples);
    const attacks = await featureDistances(net, extractor.features, images, {
      eps: request.eps / 255, batchSize: request.batchSize, seed: request.seed,
      onBatch: (batch, batches) => onProgress({ fraction: batch / batches, message: `feature distance: batch ${batch}/${batches}` }),
    });
    const report = FeatureDistanceReportSchema.parse({
      formatVersion: 1, runId: request.runId, checkpoint: request.checkpoint, epoch: checkpoint.epoch,
      samples: request.samples, eps: request.eps, seed: request.seed, blocks: exitBlocks(prepared.detail.config), attacks, createdAt: new Date().toISOString(),
    });
    writeFileAtomically(fileOf(home, request.runId), JSON.stringify(report, null, 2) + '\n', 'the feature-distance report');
    return report;
  } finally {
    extractor.dispose();
    net.dispose();
  }
}
