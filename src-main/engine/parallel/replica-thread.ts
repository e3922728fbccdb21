// Entry of one data-parallel training worker (a worker thread of the engine process). It builds its
// replica of the run's network from the same configuration and seed as every other worker (so all
// start with the same weights), then answers the coordinator's commands one at a time: a step on
// its shard of each minibatch (gradients averaged through the shared-memory exchange), a part of
// the held-out probes, the state for a checkpoint, a resume.
import { ReplicaCommandSchema, ReplicaEventSchema, type ReplicaCommand, type ReplicaEvent } from '../../../src-shared/parallel-messages';
import { selectBackend } from '../backends/select';
import { Replica } from '../train/replica';
import { AllReduce, ReplicaAbortedError } from './all-reduce';
import { ExchangedUpdate } from './exchanged-update';
import { serveCommands } from './thread-serve';

let replica: Replica | null = null;
let exchange: AllReduce | null = null;

async function handle(cmd: ReplicaCommand): Promise<ReplicaEvent> {
  if (cmd.type === 'build') {
    const backend = await selectBackend(cmd.config.backend);
    replica = new Replica(cmd.config, cmd.data, cmd.eps, cmd.alpha);
    return { type: 'built', summary: replica.net.summary, backend: backend.backend, ...replica.footprint() };
  }
  if (!replica) throw new Error(`'${cmd.type}' before 'build'`);
  switch (cmd.type) {
    case 'attach':
      exchange = new AllReduce(cmd.exchange, cmd.index);
      return { type: 'attached' };
    case 'step': {
      if (!exchange) throw new Error("'step' before 'attach'");
      const update = new ExchangedUpdate(exchange, replica.optimizer, replica.net.layersModel.nonTrainableWeights, cmd.weights);
      const r = await replica.step(cmd, { update });
      return { type: 'stepped', ...r };
    }
    case 'probe':
      return { type: 'probed', counts: await replica.probe({ x: cmd.x, y: cmd.y, count: cmd.y.length }, cmd.eps, cmd.batchSize, cmd.seed, cmd.offset) };
    case 'norms':
      return { type: 'norms', values: await replica.fcNorms() };
    case 'get-state':
      return { type: 'state', state: await replica.state() };
    case 'set-state':
      replica.load(cmd.state);
      return { type: 'loaded' };
  }
}

serveCommands(ReplicaCommandSchema, ReplicaEventSchema, handle, (err) => err instanceof ReplicaAbortedError);
