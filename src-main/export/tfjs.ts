// TensorFlow.js layers format: model.json (topology + weights manifest) and one weights file, the
// layout tf.loadLayersModel reads over HTTP or, in Node, through fileLoadHandler below.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const TFJS_FILES = { model: 'model.json', weights: 'weights.bin' } as const;

/** Writes the model into `dir` (which must exist); returns the files written. */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<string[]> {
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : new tf.io.CompositeArrayBuffer(artifacts.weightData).slice();
    const manifest = [{ paths: [TFJS_FILES.weights], weights: artifacts.weightSpecs ?? [] }];
    const json: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology as object,
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: manifest,
    };
    fs.writeFileSync(path.join(dir, TFJS_FILES.weights), Buffer.from(weights));
    fs.writeFileSync(path.join(dir, TFJS_FILES.model), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
  }));
  return [TFJS_FILES.model, TFJS_FILES.weights];
}

/** A load handler for `tf.loadLayersModel(fileLoadHandler('/path/model.json'))` in Node. */
export function fileLoadHandler(modelJson: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(modelJson, 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = manifest.flatMap((group) => group.paths.map((p) => {
          const b = fs.readFileSync(path.join(path.dirname(modelJson), p));
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        }));
        return [specs, buffers];
      });
    },
  };
}
