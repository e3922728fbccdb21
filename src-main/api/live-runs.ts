// The runs this app session is training: one engine process each, their engine events relayed to
// renderers as they come, and the state a renderer needs to draw a run it joins late (after a
// reload, or when switching views). Persisting runs is the run service's job; this only watches.
import type { TrainConfig } from '../../src-shared/config';
import type { EngineCommandInput, EngineEvent } from '../../src-shared/engine-messages';
import type { LiveRun, RunStatus } from '../../src-shared/api';
import type { EventHub } from './events';
import { ApiError } from './errors';

/** A started engine run, whoever started it (the engine host directly, or the run service). */
export interface RunHandle {
  runId: string;
  send(command: EngineCommandInput): void;
  /** Resolves when the engine has ended, whatever the way. */
  done: Promise<unknown>;
  kill(): void;
}

export interface StartRequest {
  config: TrainConfig;
  name: string;
  tags: string[];
  /** Continue this stored run from its checkpoint. */
  resumeRunId?: string;
}

/** Starts one run's engine; `onEvent` receives every engine event of that run. */
export type RunStarter = (request: StartRequest, onEvent: (event: EngineEvent) => void) => Promise<RunHandle> | RunHandle;

/** Batch-loss points kept per run for the live chart; older points are thinned out beyond this. */
const MAX_LOSS_POINTS = 1500;
const MAX_LOG = 50;

interface Tracked {
  state: LiveRun;
  handle: RunHandle;
  /** performance.now() when the current running stretch began (null while paused or ended). */
  since: number | null;
}

const ACTIVE: RunStatus[] = ['queued', 'running', 'paused'];

export class LiveRuns {
  private runs = new Map<string, Tracked>();

  constructor(private readonly hub: EventHub, private readonly starter: RunStarter) {}

  async start(request: StartRequest): Promise<string> {
    let tracked: Tracked | null = null;
    const early: EngineEvent[] = [];
    const handle = await this.starter(request, (event) => {
      // Events can arrive before the starter returns the handle; replay them once it has.
      if (tracked) this.onEvent(tracked, event);
      else early.push(event);
    });
    tracked = {
      handle,
      since: performance.now(),
      state: {
        runId: handle.runId,
        name: request.name,
        config: request.config,
        status: 'queued',
        startedAt: new Date().toISOString(),
        elapsedSeconds: 0,
        backend: null,
        model: null,
        progress: null,
        lossTrace: [],
        epochs: [],
        failure: null,
        log: [],
      },
    };
    this.runs.set(handle.runId, tracked);
    this.setStatus(tracked, 'queued');
    for (const event of early) this.onEvent(tracked, event);
    const t = tracked;
    // The handle's end is the authority: a dead engine that never said 'failed' still ends the run.
    handle.done.then(
      () => {
        if (ACTIVE.includes(t.state.status)) this.fail(t, 'engine-died', 'the engine ended without a final status');
      },
      (err) => this.fail(t, 'error', err instanceof Error ? err.message : String(err)),
    );
    return handle.runId;
  }

  control(runId: string, action: 'pause' | 'resume' | 'stop'): void {
    const t = this.runs.get(runId);
    if (!t) throw new ApiError('not-found', `run '${runId}' is not running in this session`);
    if (!ACTIVE.includes(t.state.status)) throw new ApiError('bad-request', `run '${runId}' has already ended (${t.state.status})`);
    if (action === 'pause' && t.state.status === 'paused') return;
    if (action === 'resume' && t.state.status !== 'paused') return;
    t.handle.send({ type: action });
  }

  isActive(runId: string): boolean {
    const t = this.runs.get(runId);
    return Boolean(t && ACTIVE.includes(t.state.status));
  }

  list(): LiveRun[] {
    const now = performance.now();
    const all = [...this.runs.values()].map((t) => ({
      ...t.state,
      elapsedSeconds: t.state.elapsedSeconds + (t.since === null ? 0 : (now - t.since) / 1000),
    }));
    // Running ones first, then the most recent.
    return all.sort((a, b) => Number(ACTIVE.includes(b.status)) - Number(ACTIVE.includes(a.status)) || b.startedAt.localeCompare(a.startedAt));
  }

  /** Asks every active run to stop on a checkpoint; kills the ones still alive after `graceMs`. */
  async stopAll(graceMs: number): Promise<void> {
    const active = [...this.runs.values()].filter((t) => ACTIVE.includes(t.state.status));
    for (const t of active) t.handle.send({ type: 'stop' });
    await Promise.all(active.map(async (t) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const result = await Promise.race([t.handle.done.then(() => 'done' as const, () => 'done' as const), timeout]);
      clearTimeout(timer);
      if (result === 'timeout') t.handle.kill();
    }));
  }

  private onEvent(t: Tracked, event: EngineEvent): void {
    const s = t.state;
    switch (event.type) {
      case 'started':
        s.backend = event.backend;
        s.model = event.model;
        this.setStatus(t, 'running');
        break;
      case 'progress': {
        s.progress = { epoch: event.epoch, epochs: event.epochs, batch: event.batch, batches: event.batches, phase: event.phase, loss: event.loss, imagesPerSecond: event.imagesPerSecond };
        if (event.phase === 'train') this.addLoss(s, (event.epoch - 1) * event.batches + event.batch, event.loss);
        break;
      }
      case 'epoch':
        s.epochs = [...s.epochs.filter((e) => e.epoch !== event.metrics.epoch), event.metrics];
        break;
      case 'paused':
        this.pauseClock(t);
        this.setStatus(t, 'paused');
        break;
      case 'resumed':
        t.since = performance.now();
        this.setStatus(t, 'running');
        break;
      case 'finished':
        this.pauseClock(t);
        this.setStatus(t, event.status);
        break;
      case 'failed':
        this.fail(t, event.kind, event.message);
        break;
      case 'log':
        s.log = [...s.log, { level: event.level, message: event.message }].slice(-MAX_LOG);
        break;
      default:
        break;
    }
    this.hub.emit('run.event', { runId: s.runId, event });
  }

  private addLoss(s: LiveRun, step: number, loss: number): void {
    if (!Number.isFinite(loss)) return;
    s.lossTrace.push([step, loss]);
    if (s.lossTrace.length > MAX_LOSS_POINTS) s.lossTrace = s.lossTrace.filter((_, i) => i % 2 === 0);
  }

  private pauseClock(t: Tracked): void {
    if (t.since !== null) t.state.elapsedSeconds += (performance.now() - t.since) / 1000;
    t.since = null;
  }

  private fail(t: Tracked, kind: string, message: string): void {
    if (!ACTIVE.includes(t.state.status)) return;
    this.pauseClock(t);
    t.state.failure = { kind, message };
    this.setStatus(t, 'failed');
  }

  private setStatus(t: Tracked, status: RunStatus): void {
    t.state.status = status;
    this.hub.emit('run.status', { runId: t.state.runId, status });
    if (!ACTIVE.includes(status)) this.hub.emit('runs.changed', { runId: t.state.runId });
  }
}
