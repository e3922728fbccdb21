// The process serving the UI does small tf work itself (model summaries, exports) on the cpu
// backend; the engine's backends belong to the engine and evaluation processes. Loading the wasm
// backend here once made every model summary fail ("backend 'wasm' has not yet been initialized").
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createHandlers } from '../../../src-main/api/handlers';
import type { ApiContext } from '../../../src-main/api/context';
import { TINY_MODEL } from '../../helpers/tiny-net';

describe('the API process', () => {
  it('registers no engine backend and describes a model', async () => {
    const handlers = createHandlers({} as ApiContext);
    expect(Object.keys(tf.engine().registryFactory)).toEqual(['cpu']);
    const summary = await handlers['model.describe']({ model: TINY_MODEL, numClasses: 10 });
    expect(summary.exits).toBe(3);
    expect(summary.perExit[2].macs).toBeGreaterThan(summary.perExit[0].macs);
  });
});
