// One array task of a study on Slurm: the cell's run, in the task's own data folder under the
// shared directory, goes through the same queue as `study run` (run-study.ts) given that one cell:
// trained, or resumed from its last checkpoint, or skipped when done; then evaluated. Then comes its
// run bundle, written atomically, and last the marker saying it is complete, so a marker that says
// so always names a whole bundle. Slurm's SIGTERM (scancel, the time limit) stops the task; the next
// task of the cell resumes the run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineEvent } from '../../../src-shared/engine-messages';
import type { TaskMarker } from '../../../src-shared/slurm';
import { checkStudyRecipe } from '../../../src-shared/study';
import { exportBundle } from '../../runs/bundle';
import { RunService } from '../../runs/service';
import { stoppingOnSignals } from '../../stop-on-signals';
import { runStudy, type StudyProgress } from '../run-study';
import { readStoredRecipe, readStudyState, StudyError } from '../study-folder';
import { linkSharedDatasets, taskPaths } from './shared-dir';
import { jobOfEnvironment, writeTaskMarker } from './task-marker';

function taskCell(shared: string, name: string, key: string) {
  const recipe = readStoredRecipe(shared, name);
  if (!recipe) throw new StudyError(`no study '${name}' in the shared directory ${shared} (\`exitlab study run ${name} --on slurm\` puts it there)`);
  const { cells } = checkStudyRecipe(recipe);
  const cell = cells.find((c) => c.key === key);
  if (!cell) throw new StudyError(`study '${name}' has no run '${key}' (its runs: ${cells.map((c) => c.key).join(', ')})`);
  return { recipe, cell };
}

export interface TaskHooks {
  /** A line for the task's log. */
  say: (line: string) => void;
  onEngineEvent?: (event: EngineEvent) => void;
}

/** Runs the task; its exit code: 0 with the bundle written, 1 failed, 130 stopped by a signal. */
export async function runStudyTask(shared: string, name: string, key: string, { say, onEngineEvent }: TaskHooks): Promise<number> {
  const { recipe, cell } = taskCell(shared, name, key);
  const paths = taskPaths(shared, name, key);
  linkSharedDatasets(shared, paths.home);
  const job = jobOfEnvironment();
  const recordedRun = () => readStudyState(paths.home, name).runs[key] ?? null;
  let marker: Extract<TaskMarker, { state: 'running' }> = {
    state: 'running', cell: key, job, host: os.hostname(), pid: process.pid, startedAt: new Date().toISOString(), runId: recordedRun(), startEpoch: null,
    epochsDone: 0,
  };
  const update = (changes: Partial<typeof marker>) => writeTaskMarker(paths.marker, (marker = { ...marker, ...changes }));
  update({});
  const ended = () => ({ cell: key, job, finishedAt: new Date().toISOString(), runId: recordedRun() });

  const service = new RunService({ home: paths.home });
  let signalled = false;
  try {
    const queue = runStudy(service, recipe, [cell], {
      onCell: (p: StudyProgress) => say(`${p.cell.key} (run ${p.runId}): ${p.phase}${p.message ? ` — ${p.message}` : ''}`),
      onEngineEvent: (_, e) => {
        onEngineEvent?.(e);
        if (e.type === 'started') {
          update({ runId: e.runId, startEpoch: e.startEpoch });
          say(`training from epoch ${e.startEpoch} of ${cell.config.epochs}`);
        } else if (e.type === 'checkpoint') {
          update({ epochsDone: e.epoch });
        }
      },
    });
    const result = await stoppingOnSignals(queue.done, () => {
      signalled = true;
      say('signalled: stopping; the next task of this run resumes it from its last checkpoint');
      queue.stop();
    });
    if (signalled || result.stopped) {
      writeTaskMarker(paths.marker, { state: 'stopped', ...ended() });
      return 130;
    }
    if (result.failed.length) {
      writeTaskMarker(paths.marker, { state: 'failed', ...ended(), message: result.failed[0].message });
      return 1;
    }
    const runId = recordedRun()!;
    // A bundle of an earlier try that died before its marker: this run's, but written again rather than trusted.
    fs.rmSync(paths.bundle, { force: true });
    const written = exportBundle(paths.home, service.store, runId, paths.bundle);
    writeTaskMarker(paths.marker, {
      state: 'completed', ...ended(), runId, bundle: { file: path.basename(written.file), bytes: written.bytes, sha256: written.sha256 },
    });
    say(`bundle ${written.file} (${written.files} file(s), ${written.bytes} bytes): \`exitlab study collect ${name}\` brings it home`);
    return 0;
  } catch (err) {
    writeTaskMarker(paths.marker, { state: 'failed', ...ended(), message: (err as Error).message });
    throw err;
  } finally {
    await service.close();
  }
}
