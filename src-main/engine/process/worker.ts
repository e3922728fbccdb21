// Entry of the engine process. It receives EngineCommands from the process that owns the run
// (the CLI, or Electron main through a utilityProcess) and answers with EngineEvents; both are
// validated against the schemas in src-shared. The UI process never runs training itself.
import { EngineCommandSchema, EngineEventSchema, type EngineCommand, type EngineEvent } from '../../../src-shared/engine-messages';
import { describeZodError } from '../../../src-shared/config';
import { selectBackend } from '../backends/select';
import { openDataset } from '../../datasets/catalog';
import { runTraining } from '../train/trainer';
import { classifyFailure } from './failure';
import { RunControl } from '../train/run-control';

interface Port {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}

/** What the engine uses of process.parentPort, which Electron adds in a utility process. */
interface ElectronParentPort {
  postMessage(m: unknown): void;
  on(e: 'message', l: (e: { data: unknown }) => void): void;
}

/** Electron's utilityProcess talks through process.parentPort; child_process.fork through process.send. */
function parentPort(): Port {
  // Node's types do not know parentPort, and this file does not load Electron's (it runs under Node too).
  const electronPort = 'parentPort' in process ? (process.parentPort as ElectronParentPort | undefined) : undefined;
  if (electronPort) return { send: (m) => electronPort.postMessage(m), onMessage: (l) => electronPort.on('message', (e) => l(e.data)) };
  if (!process.send) throw new Error('the engine must be started by its host (no IPC channel)');
  return { send: (m) => process.send!(m), onMessage: (l) => process.on('message', l) };
}

function main(): void {
  const port = parentPort();
  const control = new RunControl();
  let running = false;
  const emit = (event: EngineEvent) => port.send(EngineEventSchema.parse(event));
  const fail = (err: unknown, batchSize?: number) => {
    emit({ type: 'failed', ...classifyFailure(err, batchSize) });
    // Let the message drain before exiting.
    setTimeout(() => process.exit(1), 50);
  };

  const start = async (cmd: Extract<EngineCommand, { type: 'start' }>) => {
    running = true;
    const backend = await selectBackend(cmd.config.backend);
    let data;
    try {
      data = openDataset(cmd.home, cmd.config.dataset);
    } catch (err) {
      emit({ type: 'failed', kind: 'dataset', message: err instanceof Error ? err.message : String(err) });
      setTimeout(() => process.exit(1), 50);
      return;
    }
    await runTraining({ runId: cmd.runId, config: cmd.config, runDir: cmd.runDir, resume: cmd.resume, data, emit, control, backend });
    setTimeout(() => process.exit(0), 50);
  };

  port.onMessage((raw) => {
    const parsed = EngineCommandSchema.safeParse(raw);
    if (!parsed.success) {
      emit({ type: 'log', level: 'warn', message: `ignored an invalid engine command: ${describeZodError(parsed.error)}` });
      return;
    }
    const cmd = parsed.data;
    if (cmd.type === 'start') {
      if (running) return emit({ type: 'log', level: 'warn', message: 'a run is already in progress in this engine' });
      start(cmd).catch((err) => fail(err, cmd.config.batchSize));
    } else if (cmd.type === 'pause') control.pause();
    else if (cmd.type === 'resume') control.resume();
    else control.stop();
  });
  // An owner that died (SIGKILL, a crash) can no longer record anything this engine does, and a
  // new owner may resume the run. Without this an orphan lives on until its next event fails to
  // send, which a long evaluation phase can put off, writing checkpoints meanwhile.
  process.on('disconnect', () => process.exit(1));
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  emit({ type: 'ready', pid: process.pid });
}

main();
