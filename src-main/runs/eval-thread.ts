// Entry of one evaluation worker (a worker thread of the evaluating process, eval-workers.ts): it
// loads the run's network from the checkpoint on the backend the evaluation selected, keeps its
// share of the attacked images, and attacks one batch per command.
import { EvalThreadCommandSchema, EvalThreadEventSchema, type EvalThreadCommand, type EvalThreadEvent } from '../../src-shared/eval-thread-messages';
import { selectBackend } from '../engine/backends/select';
import { attackBatch, type BatchSetup, type ImageSet } from '../engine/eval/batch-attack';
import type { MultiExitNet } from '../engine/model/multi-exit';
import { serveCommands } from '../engine/parallel/thread-serve';
import { activationBytesPerImage } from '../engine/parallel/memory';
import { IMAGE_SHAPE } from '../../src-shared/datasets';
import { batchSetup, runNetwork } from './eval-setup';

let loaded: { net: MultiExitNet; images: ImageSet; offset: number; setup: BatchSetup } | null = null;

async function handle(cmd: EvalThreadCommand): Promise<EvalThreadEvent> {
  if (cmd.type === 'load') {
    await selectBackend(cmd.backend);
    const { net, checkpoint } = runNetwork(cmd.home, cmd.prepared);
    const images: ImageSet = { x: cmd.x, y: cmd.y, count: cmd.y.length, shape: [...IMAGE_SHAPE] };
    loaded = { net, images, offset: cmd.offset, setup: batchSetup(cmd.prepared.request, net.exitCount) };
    return {
      type: 'loaded', epoch: checkpoint.epoch, batchesDone: checkpoint.batchesDone,
      parameters: net.summary.parameters, activationBytesPerImage: activationBytesPerImage(net.layersModel),
    };
  }
  if (!loaded) throw new Error("'attack' before 'load'");
  const { task } = cmd;
  const outcome = await attackBatch(loaded.net, loaded.images, { ...task, start: task.start - loaded.offset, end: task.end - loaded.offset }, loaded.setup);
  return { type: 'attacked', outcome };
}

serveCommands(EvalThreadCommandSchema, EvalThreadEventSchema, handle);
