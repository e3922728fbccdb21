// The runs this app session is training: their engine events relayed to renderers as they come,
// and the state a renderer needs to draw a run it joins late (after a reload, or when switching
// views). Starting engines and recording runs is the run service's job; this only watches.
import type { TrainConfig } from '../../src-shared/config';
import type { EngineEvent } from '../../src-shared/engine-messages';
import type { LiveRun, RunStatus } from '../../src-shared/api';
import type { EventHub } from './events';
import { ApiError } from './errors';

interface DrivenRun {
  runId: string;
  done: Promise<unknown>;
  kill(signal?: NodeJS.Signals): void;
}

/** What LiveRuns needs from the run service (src-main/runs/service.ts): start, resume, steer. */
export interface RunDriver {
  start(config: TrainConfig, opts: { name?: string; tags?: string[]; note?: string; onEvent: (event: EngineEvent) => void }): DrivenRun;
  resume(runId: string, opts: { onEvent: (event: EngineEvent) => void }): DrivenRun;
  control(runId: string, command: 'pause' | 'resume' | 'stop'): void;
}

/** Batch-loss points kept per run for the live chart; older points are thinned out beyond this. */
const MAX_LOSS_POINTS = 1500;
const MAX_LOG = 50;
const ACTIVE: RunStatus[] = ['queued', 'running', 'paused'];

interface Tracked {
  state: LiveRun;
  run: DrivenRun;
  /** performance.now() when the current running stretch began (null while paused or ended). */
  since: number | null;
}

export class LiveRuns {
  private runs = new Map<string, Tracked>();

  constructor(private readonly hub: EventHub, private readonly driver: RunDriver) {}

  start(config: TrainConfig, opts: { name?: string; tags?: string[]; note?: string } = {}): string {
    return this.track(config, opts.name ?? '', opts.tags ?? [], (onEvent) => this.driver.start(config, { ...opts, onEvent }));
  }

  /** Continues a stored run; `config`, `name` and `tags` are the stored run's. */
  resume(runId: string, stored: { config: TrainConfig; name: string; tags: string[] }): string {
    return this.track(stored.config, stored.name, stored.tags, (onEvent) => this.driver.resume(runId, { onEvent }));
  }

  control(runId: string, action: 'pause' | 'resume' | 'stop'): void {
    const t = this.runs.get(runId);
    if (!t) throw new ApiError('not-found', `run '${runId}' is not running in this session`);
    if (!ACTIVE.includes(t.state.status)) throw new ApiError('bad-request', `run '${runId}' has already ended (${t.state.status})`);
    if (action === 'pause' && t.state.status === 'paused') return;
    if (action === 'resume' && t.state.status !== 'paused') return;
    this.driver.control(runId, action);
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
    for (const t of active) this.driver.control(t.state.runId, 'stop');
    await Promise.all(active.map(async (t) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const result = await Promise.race([t.run.done.then(() => 'done' as const, () => 'done' as const), timeout]);
      clearTimeout(timer);
      if (result === 'timeout') t.run.kill('SIGKILL');
    }));
  }

  private track(config: TrainConfig, name: string, tags: string[], launch: (onEvent: (event: EngineEvent) => void) => DrivenRun): string {
    let tracked: Tracked | null = null;
    const early: EngineEvent[] = [];
    const run = launch((event) => {
      // The service may report events before `launch` returns; they are replayed once tracked.
      if (tracked) this.onEvent(tracked, event);
      else early.push(event);
    });
    const t: Tracked = {
      run,
      since: performance.now(),
      state: {
        runId: run.runId,
        name,
        config,
        tags,
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
    tracked = t;
    this.runs.set(run.runId, t);
    this.setStatus(t, 'queued');
    for (const event of early) this.onEvent(t, event);
    // The engine's end is the authority: one that died without a final event still ends the run.
    run.done.then(
      () => {
        if (ACTIVE.includes(t.state.status)) this.fail(t, 'engine-died', 'the engine ended without a final status');
      },
      (err) => this.fail(t, 'error', err instanceof Error ? err.message : String(err)),
    );
    return run.runId;
  }

  private onEvent(t: Tracked, event: EngineEvent): void {
    const s = t.state;
    switch (event.type) {
      case 'started':
        s.backend = event.backend;
        s.model = event.model;
        this.setStatus(t, 'running');
        break;
      case 'progress':
        s.progress = {
          epoch: event.epoch, epochs: event.epochs, batch: event.batch, batches: event.batches, phase: event.phase, loss: event.loss,
          imagesPerSecond: event.imagesPerSecond,
        };
        if (event.phase === 'train') this.addLoss(s, (event.epoch - 1) * event.batches + event.batch, event.loss);
        break;
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
    // As the run service records it: a dead engine leaves a resumable run, not a failed one.
    this.setStatus(t, kind === 'engine-died' ? 'interrupted' : 'failed');
  }

  private setStatus(t: Tracked, status: RunStatus): void {
    t.state.status = status;
    this.hub.emit('run.status', { runId: t.state.runId, status });
    this.hub.emit('runs.changed', { runId: t.state.runId });
  }
}
