// Starts runs straight on the engine host: one engine process per run, its folder under the data
// folder's runs/. The launcher is injected so that Electron can use a utilityProcess where plain
// Node forks a child process.
import * as path from 'node:path';
import { startEngine, type EngineHandle } from '../engine/process/host';
import { newRunId } from '../engine/process/run-engine';
import type { EngineEvent } from '../../src-shared/engine-messages';
import { homePaths } from '../home';
import type { RunStarter } from './live-runs';

export type EngineLauncher = (onEvent: (event: EngineEvent) => void) => EngineHandle;

export function engineStarter(home: string, launch: EngineLauncher = startEngine): RunStarter {
  return (request, onEvent) => {
    const runId = request.resumeRunId ?? newRunId();
    const engine = launch(onEvent);
    const runDir = path.join(homePaths(home).runs, runId);
    engine.send({ type: 'start', runId, config: request.config, runDir, home, resume: Boolean(request.resumeRunId) });
    return { runId, send: (c) => engine.send(c), done: engine.done, kill: () => engine.kill('SIGKILL') };
  };
}
