// The run store: every write is one transaction through a prepared statement, every multi-table read
// runs inside one read transaction, so a reader (the UI) sees a run either before or after a write,
// never half of it. The process that owns a run is the only one that writes its rows.
import { TrainConfigSchema, type ModelConfig, type TrainConfig } from '../../src-shared/config';
import { DatasetManifestSchema, type DatasetManifest } from '../../src-shared/datasets';
import { ModelSummarySchema, type FailureKind, type ModelSummary } from '../../src-shared/engine-messages';
import { EpochMetricsSchema, type EpochMetrics, type ExitEpochMetrics } from '../../src-shared/metrics';
import {
  ACTIVE_STATUSES, EarlyExitResultSchema, EvaluationInputSchema, RunFilterSchema, RunIdSchema, RunNameSchema, TagSchema,
  type ArtefactRecord, type CheckpointKind, type CheckpointRecord, type Evaluation, type EvaluationInput, type RunDetail, type RunFilter, type RunStatus,
  type RunSummary,
} from '../../src-shared/runs';
import { homePaths } from '../home';
import { openDatabase, StoreError, type Db, type OpenOptions } from './database';
import { rethrowWriteFailure } from '../write-errors';

export { StoreError };
export class UnknownRunError extends StoreError {}

const now = () => new Date().toISOString();

/** "msdnet 7 blocks, step 2, 16 ch, growth 6, 3 scales": the model column of run lists. */
function describeModel(m: ModelConfig): string {
  return `${m.arch} ${m.blocks} blocks, step ${m.step}, base ${m.base}, ${m.channels} ch, growth ${m.growthRate}, ` +
    `${m.scales} scales${m.exits === 'last' ? ', last exit only' : ''}`;
}

interface RunRow {
  id: string;
  name: string;
  dataset_id: string;
  method: string;
  model: string;
  backend: string;
  backend_used: string | null;
  config: string;
  model_summary: string | null;
  code_version: string;
  seed: number;
  epochs: number;
  status: RunStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  seconds: number;
  epochs_done: number;
  failure_kind: string | null;
  failure_message: string | null;
  owner_pid: number | null;
  heartbeat_at: string | null;
}

interface EpochRow {
  epoch: number;
  lr: number;
  seconds: number;
  images_per_second: number;
  probe: string | null;
  overfit_detected: number;
  overfit_exits: string;
  overfit_reason: string;
}

/** The per-exit metrics and their exit_metrics columns: the one list the row mapping and the insert derive from. */
const EXIT_COLUMNS = {
  trainCleanAcc: 'train_clean_acc',
  trainCleanLoss: 'train_clean_loss',
  trainAdvAcc: 'train_adv_acc',
  trainAdvLoss: 'train_adv_loss',
  fcWeightNorm: 'fc_weight_norm',
  lambda: 'lambda',
  valCleanAcc: 'val_clean_acc',
  valFgsmAcc: 'val_fgsm_acc',
  valPgdAcc: 'val_pgd_acc',
} as const satisfies Record<Exclude<keyof ExitEpochMetrics, 'exit'>, string>;
const EXIT_METRICS = Object.keys(EXIT_COLUMNS) as Array<keyof typeof EXIT_COLUMNS>;

type ExitRow = { epoch: number; exit: number } & Record<(typeof EXIT_COLUMNS)[keyof typeof EXIT_COLUMNS], number>;

function exitMetricsOf(row: ExitRow): ExitEpochMetrics {
  const metrics = { exit: row.exit } as ExitEpochMetrics;
  for (const key of EXIT_METRICS) metrics[key] = row[EXIT_COLUMNS[key]];
  return metrics;
}

export interface NewRun {
  id: string;
  name?: string;
  config: TrainConfig;
  codeVersion: string;
  ownerPid?: number | null;
  createdAt?: string;
}

export interface StartedRun {
  backendUsed: string;
  modelSummary: ModelSummary;
  /** First epoch this engine session trains: recorded epochs from here on are replayed, so dropped. */
  startEpoch: number;
  ownerPid: number;
}

export interface FinishedRun {
  status: Extract<RunStatus, 'completed' | 'stopped' | 'failed' | 'interrupted'>;
  seconds?: number;
  epochsDone?: number;
  failure?: { kind: FailureKind; message: string } | null;
}

export class RunStore {
  private readonly s: ReturnType<typeof prepare>;

  constructor(readonly db: Db) {
    this.s = prepare(db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- writes ----------------------------------------------------------------------------------

  upsertDataset(manifest: DatasetManifest): void {
    const m = DatasetManifestSchema.parse(manifest);
    this.write(() => this.s.upsertDataset.run({ id: m.id, name: m.name, source: m.source, manifest: JSON.stringify(m), at: now() }));
  }

  /**
   * A write transaction, begun IMMEDIATE: it takes the write lock before reading, so a second
   * process writing to the same data folder makes it wait (busy_timeout) instead of failing with
   * SQLITE_BUSY when a deferred read transaction tries to upgrade.
   */
  private write<T>(body: () => T): T {
    try {
      return this.db.transaction(body).immediate();
    } catch (err) {
      // SQLite rolled the transaction back: the database is as it was before the call.
      return rethrowWriteFailure(err, `the run database ${this.db.name}`, this.db.name, (m) => new StoreError(m));
    }
  }

  createRun(run: NewRun): void {
    const id = RunIdSchema.parse(run.id);
    const config = TrainConfigSchema.parse(run.config);
    this.write(() => {
      if (this.s.runExists.get(id)) throw new StoreError(`a run with id '${id}' already exists`);
      this.s.insertRun.run({
        id, name: RunNameSchema.parse(run.name ?? ''), dataset: config.dataset, method: config.method, model: describeModel(config.model),
        backend: config.backend,
        config: JSON.stringify(config), codeVersion: run.codeVersion, seed: config.seed, epochs: config.epochs,
        status: 'queued', createdAt: run.createdAt ?? now(), ownerPid: run.ownerPid ?? null, heartbeat: now(),
      });
    });
  }

  /** The engine started (or restarted after a resume): it owns the run from here. */
  recordStarted(id: string, started: StartedRun): void {
    const summary = ModelSummarySchema.parse(started.modelSummary);
    this.write(() => {
      this.requireRun(id);
      this.s.discardEpochsFrom.run(id, started.startEpoch);
      this.s.markStarted.run({ id, backendUsed: started.backendUsed, summary: JSON.stringify(summary), at: now(), ownerPid: started.ownerPid });
      this.s.refreshProgress.run({ id });
    });
  }

  setStatus(id: string, status: RunStatus): void {
    this.write(() => {
      this.requireRun(id);
      this.s.setStatus.run({ id, status, at: now() });
    });
  }

  /** Records an owner's claim on a queued or interrupted run before its engine starts again. */
  claim(id: string, ownerPid: number): void {
    this.write(() => {
      this.requireRun(id);
      this.s.claim.run({ id, ownerPid, at: now() });
    });
  }

  heartbeat(id: string): void {
    this.s.heartbeat.run({ id, at: now() });
  }

  /** Idempotent on (run, epoch): a replayed epoch replaces its earlier record. */
  recordEpoch(id: string, metrics: EpochMetrics): void {
    const m = EpochMetricsSchema.parse(metrics);
    this.write(() => {
      this.requireRun(id);
      this.s.upsertEpoch.run({
        id, epoch: m.epoch, lr: m.lr, seconds: m.seconds, ips: m.imagesPerSecond, probe: m.probe ? JSON.stringify(m.probe) : null,
        detected: m.catastrophicOverfitting.detected ? 1 : 0, exits: JSON.stringify(m.catastrophicOverfitting.exits), reason: m.catastrophicOverfitting.reason,
        at: now(),
      });
      this.s.deleteEpochExits.run(id, m.epoch);
      for (const e of m.exits) this.s.insertExit.run(exitParams(id, m.epoch, e));
      this.s.refreshProgress.run({ id });
    });
  }

  recordCheckpoint(id: string, ckpt: Omit<CheckpointRecord, 'writtenAt'> & { writtenAt?: string }): void {
    this.write(() => {
      this.requireRun(id);
      this.s.upsertCheckpoint.run({ id, kind: ckpt.kind, epoch: ckpt.epoch, path: ckpt.path, at: ckpt.writtenAt ?? now() });
    });
  }

  finishRun(id: string, end: FinishedRun): void {
    this.write(() => {
      this.requireRun(id);
      this.s.finish.run({
        id, status: end.status, at: now(), seconds: end.seconds ?? null, epochsDone: end.epochsDone ?? null,
        failureKind: end.failure?.kind ?? null, failureMessage: end.failure?.message ?? null,
      });
    });
  }

  /**
   * Marks as interrupted every active run whose owner is gone: its process no longer exists or has
   * not sent a heartbeat for `staleMs` (a reused process id then does not keep a dead run alive).
   */
  markInterrupted(isAlive: (pid: number) => boolean, staleMs: number): string[] {
    return this.write(() => {
      const rows = this.s.activeRuns.all() as Array<Pick<RunRow, 'id' | 'owner_pid' | 'heartbeat_at'>>;
      const cutoff = Date.now() - staleMs;
      const dead = rows.filter((r) => r.owner_pid === null || !isAlive(r.owner_pid) || !r.heartbeat_at || Date.parse(r.heartbeat_at) < cutoff);
      for (const r of dead) {
        this.s.finish.run({
          id: r.id, status: 'interrupted', at: now(), seconds: null, epochsDone: null, failureKind: 'engine-died',
          failureMessage: 'the process that owned this run ended before the run did; resume it from its last checkpoint',
        });
      }
      return dead.map((r) => r.id);
    });
  }

  addEvaluation(id: string, input: EvaluationInput): number {
    const e = EvaluationInputSchema.parse(input);
    return this.write(() => {
      this.requireRun(id);
      return this.insertEvaluation(id, e, now());
    });
  }

  /** Several evaluation records (e.g. one per attack of an evaluation) and an optional artefact, in one transaction. */
  addEvaluations(id: string, inputs: EvaluationInput[], artefact?: { kind: string; path: string; meta?: Record<string, unknown> }): number[] {
    const parsed = inputs.map((e) => EvaluationInputSchema.parse(e));
    return this.write(() => {
      this.requireRun(id);
      const at = now();
      const ids = parsed.map((e) => this.insertEvaluation(id, e, at));
      if (artefact) this.s.insertArtefact.run({ id, kind: artefact.kind, path: artefact.path, at, meta: JSON.stringify(artefact.meta ?? {}) });
      return ids;
    });
  }

  addArtefact(id: string, artefact: { kind: string; path: string; meta?: Record<string, unknown> }): number {
    return this.write(() => {
      this.requireRun(id);
      return Number(
        this.s.insertArtefact.run({ id, kind: artefact.kind, path: artefact.path, at: now(), meta: JSON.stringify(artefact.meta ?? {}) }).lastInsertRowid,
      );
    });
  }

  /** Adds and removes tags; returns the run's tags afterwards. */
  tag(id: string, add: string[], remove: string[] = []): string[] {
    const plus = add.map((t) => TagSchema.parse(t));
    const minus = remove.map((t) => TagSchema.parse(t));
    return this.write(() => {
      this.requireRun(id);
      for (const t of plus) this.s.insertTag.run(id, t);
      for (const t of minus) this.s.deleteTag.run(id, t);
      return (this.s.tagsOf.all(id) as Array<{ tag: string }>).map((r) => r.tag);
    });
  }

  rename(id: string, name: string): void {
    const n = RunNameSchema.parse(name);
    this.write(() => {
      this.requireRun(id);
      this.s.rename.run(n, id);
    });
  }

  setNote(id: string, text: string): void {
    this.write(() => {
      this.requireRun(id);
      if (text.trim() === '') this.s.deleteNote.run(id);
      else this.s.upsertNote.run({ id, text, at: now() });
    });
  }

  deleteRun(id: string): void {
    this.write(() => {
      this.requireRun(id);
      this.s.deleteRun.run(id);
    });
  }

  /** Inserts a whole run (from a bundle) in one transaction; evaluation and artefact ids are renumbered. */
  importRun(detail: RunDetail): void {
    const { summary: r, config } = detail;
    this.write(() => {
      if (this.s.runExists.get(r.id)) throw new StoreError(`a run with id '${r.id}' already exists in this data folder (delete it first to replace it)`);
      if (detail.dataset && !this.s.getDataset.get(detail.dataset.id)) {
        const m = detail.dataset;
        this.s.upsertDataset.run({ id: m.id, name: m.name, source: m.source, manifest: JSON.stringify(m), at: now() });
      }
      // A run copied while it was going has no engine here: it can only be resumed.
      const status: RunStatus = ACTIVE_STATUSES.includes(r.status) ? 'interrupted' : r.status;
      this.s.insertRun.run({
        id: r.id, name: r.name, dataset: config.dataset, method: config.method, model: describeModel(config.model), backend: config.backend,
        config: JSON.stringify(config), codeVersion: r.codeVersion, seed: config.seed, epochs: config.epochs,
        status, createdAt: r.createdAt, ownerPid: null, heartbeat: null,
      });
      this.s.restoreRun.run({
        id: r.id, backendUsed: r.backendUsed, summary: detail.modelSummary ? JSON.stringify(detail.modelSummary) : null, startedAt: r.startedAt,
        finishedAt: r.finishedAt, seconds: r.seconds, epochsDone: r.epochsDone, failureKind: r.failure?.kind ?? (status !== r.status ? 'engine-died' : null),
        failureMessage: r.failure?.message ?? (status !== r.status ? 'the run was still going when it was bundled' : null),
      });
      for (const m of detail.epochs) {
        this.s.upsertEpoch.run({
          id: r.id, epoch: m.epoch, lr: m.lr, seconds: m.seconds, ips: m.imagesPerSecond, probe: m.probe ? JSON.stringify(m.probe) : null,
          detected: m.catastrophicOverfitting.detected ? 1 : 0, exits: JSON.stringify(m.catastrophicOverfitting.exits),
          reason: m.catastrophicOverfitting.reason, at: now(),
        });
        for (const e of m.exits) this.s.insertExit.run(exitParams(r.id, m.epoch, e));
      }
      for (const e of detail.evaluations) this.insertEvaluation(r.id, e, e.createdAt);
      for (const c of detail.checkpoints) this.s.upsertCheckpoint.run({ id: r.id, kind: c.kind, epoch: c.epoch, path: c.path, at: c.writtenAt });
      for (const a of detail.artefacts) this.s.insertArtefact.run({ id: r.id, kind: a.kind, path: a.path, at: a.createdAt, meta: JSON.stringify(a.meta) });
      for (const t of r.tags) this.s.insertTag.run(r.id, t);
      if (detail.notes) this.s.upsertNote.run({ id: r.id, text: detail.notes, at: now() });
    });
  }

  // ---- reads -----------------------------------------------------------------------------------

  hasRun(id: string): boolean {
    return Boolean(this.s.runExists.get(id));
  }

  getDataset(id: string): DatasetManifest | null {
    const row = this.s.getDataset.get(id) as { manifest: string } | undefined;
    return row ? DatasetManifestSchema.parse(JSON.parse(row.manifest)) : null;
  }

  /** Process id recorded as the owner of an active run (null when none or not active). */
  ownerOf(id: string): number | null {
    const row = this.requireRun(id);
    return ACTIVE_STATUSES.includes(row.status) ? row.owner_pid : null;
  }

  listRuns(filter: RunFilter = {}): RunSummary[] {
    const f = RunFilterSchema.parse(filter);
    return this.db.transaction(() => {
      const rows = this.s.listRuns.all({
        dataset: f.dataset ?? null, method: f.method ?? null, status: f.status ?? null, tag: f.tag ?? null, limit: f.limit ?? -1,
      }) as RunRow[];
      return rows.map((r) => this.summaryOf(r));
    })();
  }

  getRun(id: string): RunDetail {
    return this.db.transaction(() => this.detailOf(this.requireRun(id)))();
  }

  /** Several runs read in one transaction (one consistent snapshot). */
  getRuns(ids: string[]): RunDetail[] {
    return this.db.transaction(() => ids.map((id) => this.detailOf(this.requireRun(id))))();
  }

  // ---- internals -------------------------------------------------------------------------------

  private requireRun(id: string): RunRow {
    const row = this.s.getRun.get(id) as RunRow | undefined;
    if (!row) throw new UnknownRunError(`unknown run '${id}' (see \`exitlab runs list\`)`);
    return row;
  }

  private insertEvaluation(id: string, e: ReturnType<typeof EvaluationInputSchema.parse>, createdAt: string): number {
    const evalId = Number(this.s.insertEvaluation.run({
      id, attack: e.attack, eps: e.eps, steps: e.steps, samples: e.samples, checkpoint: e.checkpoint,
      earlyExit: e.earlyExit ? JSON.stringify(e.earlyExit) : null, at: createdAt, target: e.target, aimedAt: e.aimedAt ? JSON.stringify(e.aimedAt) : null,
    }).lastInsertRowid);
    e.perExitAcc.forEach((acc, exit) => this.s.insertEvaluationExit.run(evalId, exit, acc));
    return evalId;
  }

  private summaryOf(r: RunRow): RunSummary {
    const tags = (this.s.tagsOf.all(r.id) as Array<{ tag: string }>).map((t) => t.tag);
    const last = this.s.lastEpochExits.all(r.id, r.id) as Array<{ epoch: number; val_clean_acc: number; val_pgd_acc: number }>;
    return {
      id: r.id,
      name: r.name,
      dataset: r.dataset_id,
      method: r.method as RunSummary['method'],
      model: r.model,
      backend: r.backend,
      backendUsed: r.backend_used,
      codeVersion: r.code_version,
      seed: r.seed,
      status: r.status,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      seconds: r.seconds,
      epochsDone: r.epochs_done,
      epochs: r.epochs,
      failure: r.failure_kind ? { kind: r.failure_kind as FailureKind, message: r.failure_message ?? '' } : null,
      tags,
      lastEpoch: last.length ? { epoch: last[0].epoch, valCleanAcc: last.map((e) => e.val_clean_acc), valPgdAcc: last.map((e) => e.val_pgd_acc) } : null,
    };
  }

  private detailOf(r: RunRow): RunDetail {
    const epochs = this.s.epochsOf.all(r.id) as EpochRow[];
    const exits = this.s.exitsOf.all(r.id) as ExitRow[];
    const byEpoch = new Map<number, ExitEpochMetrics[]>();
    for (const e of exits) {
      const list = byEpoch.get(e.epoch) ?? [];
      list.push(exitMetricsOf(e));
      byEpoch.set(e.epoch, list);
    }
    type EvaluationRow = {
      id: number; attack: string; eps: number; steps: number; samples: number; checkpoint: string; early_exit: string | null; created_at: string;
      target: string | null; aimed_at: string | null;
    };
    const evalRows = this.s.evaluationsOf.all(r.id) as EvaluationRow[];
    const evaluations: Evaluation[] = evalRows.map((e) => ({
      id: e.id, attack: e.attack, eps: e.eps, steps: e.steps, samples: e.samples, checkpoint: e.checkpoint,
      earlyExit: e.early_exit ? EarlyExitResultSchema.parse(JSON.parse(e.early_exit)) : null, createdAt: e.created_at,
      target: e.target, aimedAt: e.aimed_at ? JSON.parse(e.aimed_at) : null,
      perExitAcc: (this.s.evaluationExits.all(e.id) as Array<{ accuracy: number }>).map((x) => x.accuracy),
    }));
    const checkpoints = (this.s.checkpointsOf.all(r.id) as Array<{ kind: CheckpointKind; epoch: number; path: string; written_at: string }>)
      .map((c): CheckpointRecord => ({ kind: c.kind, epoch: c.epoch, path: c.path, writtenAt: c.written_at }));
    const artefacts = (this.s.artefactsOf.all(r.id) as Array<{ id: number; kind: string; path: string; created_at: string; meta: string }>)
      .map((a): ArtefactRecord => ({ id: a.id, kind: a.kind, path: a.path, createdAt: a.created_at, meta: JSON.parse(a.meta) }));
    const note = this.s.noteOf.get(r.id) as { text: string } | undefined;
    const dataset = this.s.getDataset.get(r.dataset_id) as { manifest: string } | undefined;
    return {
      summary: this.summaryOf(r),
      config: TrainConfigSchema.parse(JSON.parse(r.config)),
      modelSummary: r.model_summary ? ModelSummarySchema.parse(JSON.parse(r.model_summary)) : null,
      dataset: dataset ? DatasetManifestSchema.parse(JSON.parse(dataset.manifest)) : null,
      epochs: epochs.map((e): EpochMetrics => ({
        epoch: e.epoch,
        lr: e.lr,
        seconds: e.seconds,
        imagesPerSecond: e.images_per_second,
        exits: byEpoch.get(e.epoch) ?? [],
        ...(e.probe ? { probe: JSON.parse(e.probe) } : {}),
        catastrophicOverfitting: { detected: e.overfit_detected === 1, exits: JSON.parse(e.overfit_exits), reason: e.overfit_reason },
      })),
      evaluations,
      checkpoints,
      artefacts,
      notes: note?.text ?? '',
    };
  }
}

function exitParams(id: string, epoch: number, e: ExitEpochMetrics) {
  return { id, epoch, exit: e.exit, ...Object.fromEntries(EXIT_METRICS.map((key) => [key, e[key]])) };
}

function prepare(db: Db) {
  return {
    upsertDataset: db.prepare(`INSERT INTO datasets (id, name, source, manifest, recorded_at) VALUES (@id, @name, @source, @manifest, @at)
      ON CONFLICT(id) DO UPDATE SET name = excluded.name, source = excluded.source, manifest = excluded.manifest, recorded_at = excluded.recorded_at`),
    getDataset: db.prepare('SELECT manifest FROM datasets WHERE id = ?'),
    runExists: db.prepare('SELECT 1 FROM runs WHERE id = ?'),
    getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
    insertRun: db.prepare(`INSERT INTO runs
      (id, name, dataset_id, method, model, backend, config, code_version, seed, epochs, status, created_at, owner_pid, heartbeat_at)
      VALUES (@id, @name, @dataset, @method, @model, @backend, @config, @codeVersion, @seed, @epochs, @status, @createdAt, @ownerPid, @heartbeat)`),
    rename: db.prepare('UPDATE runs SET name = ? WHERE id = ?'),
    restoreRun: db.prepare(`UPDATE runs SET backend_used = @backendUsed, model_summary = @summary, started_at = @startedAt, finished_at = @finishedAt,
      seconds = @seconds, epochs_done = @epochsDone, failure_kind = @failureKind, failure_message = @failureMessage WHERE id = @id`),
    markStarted: db.prepare(`UPDATE runs SET status = 'running', backend_used = @backendUsed, model_summary = @summary, started_at = COALESCE(started_at, @at),
      finished_at = NULL, failure_kind = NULL, failure_message = NULL, owner_pid = @ownerPid, heartbeat_at = @at WHERE id = @id`),
    claim: db.prepare(`UPDATE runs SET status = 'queued', finished_at = NULL, owner_pid = @ownerPid, heartbeat_at = @at WHERE id = @id`),
    setStatus: db.prepare('UPDATE runs SET status = @status, heartbeat_at = @at WHERE id = @id'),
    heartbeat: db.prepare('UPDATE runs SET heartbeat_at = @at WHERE id = @id'),
    refreshProgress: db.prepare(`UPDATE runs SET
      epochs_done = COALESCE((SELECT MAX(epoch) FROM epoch_metrics WHERE run_id = @id), 0),
      seconds = COALESCE((SELECT SUM(seconds) FROM epoch_metrics WHERE run_id = @id), 0) WHERE id = @id`),
    finish: db.prepare(`UPDATE runs SET status = @status, finished_at = @at, seconds = COALESCE(@seconds, seconds),
      epochs_done = COALESCE(@epochsDone, epochs_done), failure_kind = @failureKind, failure_message = @failureMessage, owner_pid = NULL WHERE id = @id`),
    activeRuns: db.prepare(`SELECT id, owner_pid, heartbeat_at FROM runs WHERE status IN ('queued', 'running', 'paused')`),
    deleteRun: db.prepare('DELETE FROM runs WHERE id = ?'),
    listRuns: db.prepare(`SELECT * FROM runs WHERE (@dataset IS NULL OR dataset_id = @dataset) AND (@method IS NULL OR method = @method)
      AND (@status IS NULL OR status = @status) AND (@tag IS NULL OR EXISTS (SELECT 1 FROM tags WHERE tags.run_id = runs.id AND tags.tag = @tag))
      ORDER BY created_at DESC, id DESC LIMIT @limit`),

    upsertEpoch: db.prepare(`INSERT INTO epoch_metrics
      (run_id, epoch, lr, seconds, images_per_second, probe, overfit_detected, overfit_exits, overfit_reason, recorded_at)
      VALUES (@id, @epoch, @lr, @seconds, @ips, @probe, @detected, @exits, @reason, @at)
      ON CONFLICT(run_id, epoch) DO UPDATE SET lr = excluded.lr, seconds = excluded.seconds, images_per_second = excluded.images_per_second,
      probe = excluded.probe, overfit_detected = excluded.overfit_detected, overfit_exits = excluded.overfit_exits, overfit_reason = excluded.overfit_reason,
      recorded_at = excluded.recorded_at`),
    deleteEpochExits: db.prepare('DELETE FROM exit_metrics WHERE run_id = ? AND epoch = ?'),
    discardEpochsFrom: db.prepare('DELETE FROM epoch_metrics WHERE run_id = ? AND epoch >= ?'),
    insertExit: db.prepare(`INSERT INTO exit_metrics (run_id, epoch, exit, ${EXIT_METRICS.map((k) => EXIT_COLUMNS[k]).join(', ')})
      VALUES (@id, @epoch, @exit, ${EXIT_METRICS.map((k) => `@${k}`).join(', ')})`),
    epochsOf: db.prepare('SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch'),
    exitsOf: db.prepare('SELECT * FROM exit_metrics WHERE run_id = ? ORDER BY epoch, exit'),
    lastEpochExits: db.prepare('SELECT epoch, val_clean_acc, val_pgd_acc FROM exit_metrics WHERE run_id = ? AND epoch = (SELECT MAX(epoch) ' +
      'FROM epoch_metrics WHERE run_id = ?) ORDER BY exit'),

    insertEvaluation: db.prepare(`INSERT INTO evaluations (run_id, attack, eps, steps, samples, checkpoint, early_exit, created_at, target, aimed_at)
      VALUES (@id, @attack, @eps, @steps, @samples, @checkpoint, @earlyExit, @at, @target, @aimedAt)`),
    insertEvaluationExit: db.prepare('INSERT INTO evaluation_exits (evaluation_id, exit, accuracy) VALUES (?, ?, ?)'),
    evaluationsOf: db.prepare('SELECT * FROM evaluations WHERE run_id = ? ORDER BY id'),
    evaluationExits: db.prepare('SELECT accuracy FROM evaluation_exits WHERE evaluation_id = ? ORDER BY exit'),

    upsertCheckpoint: db.prepare(`INSERT INTO checkpoints (run_id, kind, epoch, path, written_at) VALUES (@id, @kind, @epoch, @path, @at)
      ON CONFLICT(run_id, kind) DO UPDATE SET epoch = excluded.epoch, path = excluded.path, written_at = excluded.written_at`),
    checkpointsOf: db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY kind DESC'),
    insertArtefact: db.prepare('INSERT INTO artefacts (run_id, kind, path, created_at, meta) VALUES (@id, @kind, @path, @at, @meta)'),
    artefactsOf: db.prepare('SELECT * FROM artefacts WHERE run_id = ? ORDER BY id'),

    insertTag: db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)'),
    deleteTag: db.prepare('DELETE FROM tags WHERE run_id = ? AND tag = ?'),
    tagsOf: db.prepare('SELECT tag FROM tags WHERE run_id = ? ORDER BY tag'),
    upsertNote: db.prepare(`INSERT INTO notes (run_id, text, updated_at) VALUES (@id, @text, @at)
      ON CONFLICT(run_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`),
    deleteNote: db.prepare('DELETE FROM notes WHERE run_id = ?'),
    noteOf: db.prepare('SELECT text FROM notes WHERE run_id = ?'),
  };
}

/** Opens (creating and migrating as needed) the run database of a data folder. */
export function openStore(home: string, options: OpenOptions = {}): RunStore {
  return new RunStore(openDatabase(homePaths(home).database, options));
}
