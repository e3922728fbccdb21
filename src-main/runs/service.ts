// The run service: the one place that starts engines and records what they say. It lives in the
// process that owns the store (Electron main, or the CLI): it creates the run row, starts the engine
// process, persists each event as it arrives (epoch metrics, checkpoints, the final status) and
// passes every event on to listeners (the UI's live charts, the CLI's progress bar).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TrainConfigSchema, type TrainConfig } from '../../src-shared/config';
import { describeBackend, type EngineCommandInput, type EngineEvent, type ModelSummary } from '../../src-shared/engine-messages';
import { RESUMABLE_STATUSES } from '../../src-shared/runs';
import { readDatasetManifest } from '../datasets/catalog';
import { startEngine, type EngineHandle, type FinalEvent } from '../engine/process/host';
import { withResolvedWorkers } from '../engine/parallel/shards';
import { newRunId, type RunOutcome } from '../engine/process/run-engine';
import { openStore, StoreError, type RunStore } from '../store/run-store';
import { codeVersion } from './code-version';
import { CHECKPOINT_FILES, runDirOf, storedPath } from './paths';
import { isProcessAlive } from '../pids';
import { tempPathInHome, removeStaleTempsInHome } from '../temp-files';

export class RunStateError extends StoreError {}

export type RunListener = (runId: string, event: EngineEvent) => void;

export interface ActiveRun {
  runId: string;
  runDir: string;
  /** Resolves when the engine has ended and its final status is recorded. */
  done: Promise<RunOutcome>;
  pid: number | undefined;
  send(command: EngineCommandInput): void;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts an engine process: the host's fork outside Electron, a utilityProcess inside it. */
export type EngineLauncher = (onEvent: (event: EngineEvent) => void, options: { env?: NodeJS.ProcessEnv }) => EngineHandle;

export interface LaunchOptions {
  /** Receives this run's events from the very first one (before start() has returned). */
  onEvent?: (event: EngineEvent) => void;
}

export interface RunServiceOptions {
  home: string;
  /** Environment of the engine processes (tests pin backends and threads through it). */
  env?: NodeJS.ProcessEnv;
  heartbeatMs?: number;
  /** A running run whose owner has not written a heartbeat for this long is taken for dead. */
  staleMs?: number;
  launch?: EngineLauncher;
}

interface Live {
  engine: EngineHandle;
  active: ActiveRun;
}

export class RunService {
  readonly store: RunStore;
  readonly home: string;
  /** Runs found 'running' with no live owner when the service started, now marked 'interrupted'. */
  readonly interruptedAtStart: string[];
  private readonly live = new Map<string, Live>();
  private readonly listeners = new Set<RunListener>();
  private readonly heartbeatMs: number;

  constructor(private readonly options: RunServiceOptions) {
    this.home = options.home;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.store = openStore(options.home);
    // A writer killed mid-write (an import, a checkpoint, a report) leaves its temporary behind.
    removeStaleTempsInHome(options.home);
    this.interruptedAtStart = this.store.markInterrupted(isProcessAlive, options.staleMs ?? 6 * this.heartbeatMs);
  }

  onEvent(listener: RunListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs whose engine this service is driving. */
  activeRuns(): string[] {
    return [...this.live.keys()];
  }

  /** Creates the run row and starts training it. */
  start(input: TrainConfig, opts: LaunchOptions & { runId?: string; name?: string; tags?: string[]; note?: string } = {}): ActiveRun {
    // `workers: null` becomes this machine's choice, stored with the run so a resume uses the same.
    const config = withResolvedWorkers(TrainConfigSchema.parse(input));
    const runId = opts.runId ?? newRunId();
    this.store.createRun({ id: runId, name: opts.name, config, codeVersion: codeVersion(), ownerPid: process.pid });
    if (opts.tags?.length) this.store.tag(runId, opts.tags);
    if (opts.note) this.store.setNote(runId, opts.note);
    return this.launch(runId, config, false, opts);
  }

  /**
   * Continues a stopped, failed or interrupted run from its last checkpoint; `workers`, when given,
   * replaces the number of data-parallel workers it trained with (the run's log says what differs).
   */
  resume(runId: string, opts: LaunchOptions & { workers?: number } = {}): ActiveRun {
    const detail = this.store.getRun(runId);
    const workers = opts.workers ?? detail.config.workers;
    if (workers !== null && workers > detail.config.batchSize) {
      throw new RunStateError(`--workers ${workers} is more than the ${detail.config.batchSize} images of a batch of run '${runId}'`);
    }
    const { status } = detail.summary;
    if (this.live.has(runId)) throw new RunStateError(`run '${runId}' is already running here`);
    if (status === 'completed') throw new RunStateError(`run '${runId}' is completed: there is nothing to resume`);
    if (!RESUMABLE_STATUSES.includes(status)) {
      const owner = this.store.ownerOf(runId);
      throw new RunStateError(`run '${runId}' is ${status}${owner ? ` in process ${owner}` : ''}: stop it before resuming`);
    }
    const checkpoint = path.join(runDirOf(this.home, runId), CHECKPOINT_FILES.last);
    this.store.claim(runId, process.pid);
    // Died before its first checkpoint: nothing to continue from, so it trains from the start.
    return this.launch(runId, { ...detail.config, workers }, fs.existsSync(checkpoint), opts);
  }

  control(runId: string, command: 'pause' | 'resume' | 'stop'): void {
    const live = this.live.get(runId);
    if (!live) throw new RunStateError(`run '${runId}' is not running in this process`);
    live.engine.send({ type: command });
  }

  /** Deletes a run's rows and its folder (checkpoints, artefacts inside it). */
  delete(runId: string): void {
    const owner = this.store.ownerOf(runId);
    if (this.live.has(runId) || (owner !== null && isProcessAlive(owner))) {
      throw new RunStateError(`run '${runId}' is in progress${owner ? ` (process ${owner})` : ''}: stop it before deleting`);
    }
    const dir = runDirOf(this.home, runId);
    let trash: string | null = null;
    if (fs.existsSync(dir)) {
      // Moved aside first: if the database refuses, the folder goes back and nothing has changed.
      trash = tempPathInHome(this.home, `deleted-${runId}`);
      fs.renameSync(dir, trash);
    }
    try {
      this.store.deleteRun(runId);
    } catch (err) {
      if (trash) fs.renameSync(trash, dir);
      throw err;
    }
    if (trash) fs.rmSync(trash, { recursive: true, force: true });
  }

  /** Waits for the engines this service started, then closes the store. */
  async close(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => l.active.done.catch(() => undefined)));
    this.store.close();
  }

  private emit(runId: string, event: EngineEvent): void {
    for (const l of this.listeners) l(runId, event);
  }

  private launch(runId: string, config: TrainConfig, resume: boolean, opts: LaunchOptions): ActiveRun {
    const runDir = runDirOf(this.home, runId);
    let backend: string | null = null;
    let model: ModelSummary | null = null;
    const overfitEpochs: number[] = [];

    const record = (event: EngineEvent) => {
      switch (event.type) {
        case 'started':
          backend = event.backend.backend;
          model = event.model;
          this.store.recordStarted(runId, {
            backendUsed: describeBackend(event.backend), modelSummary: event.model, startEpoch: event.startEpoch, ownerPid: process.pid,
          });
          this.recordDataset(runId, config.dataset);
          break;
        case 'epoch':
          this.store.recordEpoch(runId, event.metrics);
          if (event.metrics.catastrophicOverfitting.detected) overfitEpochs.push(event.metrics.epoch);
          break;
        case 'checkpoint':
          this.store.recordCheckpoint(runId, { kind: event.best ? 'best' : 'last', epoch: event.epoch, path: storedPath(runDir, event.path) });
          break;
        case 'paused':
          this.store.setStatus(runId, 'paused');
          break;
        case 'resumed':
          this.store.setStatus(runId, 'running');
          break;
        case 'finished':
          this.store.finishRun(runId, { status: event.status, seconds: event.seconds, epochsDone: event.epochs });
          break;
        case 'failed':
          // A dead engine did not fail the run: it can be resumed from its last checkpoint.
          this.store.finishRun(runId, {
            status: event.kind === 'engine-died' ? 'interrupted' : 'failed', failure: { kind: event.kind, message: event.message },
          });
          break;
        default:
          break;
      }
    };

    const deliver = (event: EngineEvent) => {
      opts.onEvent?.(event);
      this.emit(runId, event);
    };
    const engine = (this.options.launch ?? startEngine)((event) => {
      try {
        record(event);
      } catch (err) {
        // The run goes on (its checkpoints are on disk); the user learns the record is incomplete.
        deliver({ type: 'log', level: 'warn', message: `could not record ${event.type} event of run ${runId}: ${(err as Error).message}` });
      }
      deliver(event);
    }, { env: this.options.env });
    const heartbeat = setInterval(() => {
      try {
        this.store.heartbeat(runId);
      } catch {
        // A busy database misses one beat; the next one comes in heartbeatMs.
      }
    }, this.heartbeatMs);
    heartbeat.unref();

    engine.send({ type: 'start', runId, config, runDir, home: this.home, resume });
    const done = engine.done.then((final: FinalEvent): RunOutcome => {
      clearInterval(heartbeat);
      this.live.delete(runId);
      return { runId, config, runDir, final, backend, model, overfitEpochs };
    });
    const active: ActiveRun = { runId, runDir, done, pid: engine.pid, send: (c) => engine.send(c), kill: (signal) => engine.kill(signal) };
    this.live.set(runId, { engine, active });
    return active;
  }

  private recordDataset(runId: string, id: string): void {
    try {
      this.store.upsertDataset(readDatasetManifest(this.home, id));
    } catch (err) {
      this.emit(runId, { type: 'log', level: 'warn', message: `could not record data set '${id}': ${(err as Error).message}` });
    }
  }
}
