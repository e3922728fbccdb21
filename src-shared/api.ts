// The ExitLabApi contract: every method the renderer can call and every event it can receive, with
// schemas for both directions. One contract, two transports: Electron IPC (the preload exposes it
// through contextBridge) and a local WebSocket (browser mode, end-to-end tests). The process that
// serves it parses every request with these schemas before any work starts, and every response
// before it leaves, so the renderer can trust the shapes it gets.
import { z } from 'zod';
import { ModelConfigSchema, TrainConfigSchema } from './config';
import { DatasetManifestSchema } from './datasets';
import { EngineEventSchema, ModelSummarySchema, BackendReportSchema } from './engine-messages';
import { EpochMetricsSchema } from './metrics';
import { EvalAttackSchema, EvalRequestSchema, EvalTargetSchema } from './evaluation';
import { StudyCollectResultSchema } from './slurm';
import { StudyNameSchema, StudySummarySchema, StudyViewSchema } from './study';
import {
  CheckpointKindSchema, DEFAULT_CHECKPOINT, EvaluationSchema, RunComparisonSchema, RunDetailSchema, RunFilterSchema, ExportRequestSchema, RunIdSchema,
  RunNameSchema, RunStatusSchema, RunSummarySchema, TagSchema,
  type Evaluation, type RunComparison, type RunDetail, type RunStatus, type RunSummary,
} from './runs';

const Empty = z.object({}).strict();
const RunId = RunIdSchema;
/** Client-chosen id that ties `job.progress` events to the call that started the work. */
const JobId = z.string().min(1).max(100).optional();
const AbsolutePath = z.string().min(1, 'a path is required').max(4096);

const AppInfoSchema = z.object({
  version: z.string(),
  /** The data folder (EXITLAB_HOME) everything is written under. */
  home: z.string(),
  mode: z.enum(['electron', 'browser']),
  platform: z.string(),
  /** Native open/save dialogs are available (Electron); in browser mode the UI shows path fields. */
  nativeDialogs: z.boolean(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export const PickPathRequestSchema = z.object({
  purpose: z.enum(['import-file', 'import-folder', 'export-folder']),
  title: z.string().max(200).optional(),
});

const DownloadSourceSchema = z.enum(['cifar10', 'cifar100', 'svhn']);
const LabelModeSchema = z.enum(['fine', 'coarse']);

const DatasetPreviewSchema = z.object({
  id: z.string(),
  split: z.string(),
  classes: z.array(z.string()),
  /** Images per class in each split. */
  counts: z.record(z.string(), z.array(z.number().int().nonnegative())),
  /** Sample images per class, as PNG data URLs, in class order. */
  samples: z.array(z.object({ label: z.number().int().nonnegative(), images: z.array(z.string()) })),
});
export type DatasetPreview = z.infer<typeof DatasetPreviewSchema>;

export type { RunStatus };

const ProgressSchema = z.object({
  epoch: z.number().int().positive(),
  epochs: z.number().int().positive(),
  batch: z.number().int().nonnegative(),
  batches: z.number().int().positive(),
  phase: z.enum(['train', 'eval']),
  loss: z.number(),
  imagesPerSecond: z.number().nonnegative(),
});

/** A run the app is training now (or finished since it started): what the Live run view draws. */
const LiveRunSchema = z.object({
  runId: z.string(),
  name: z.string(),
  config: TrainConfigSchema,
  tags: z.array(z.string()),
  status: RunStatusSchema,
  /** ISO time the run was started in this session. */
  startedAt: z.string(),
  /** Seconds of this session's training so far (excluding pauses), as measured by the app. */
  elapsedSeconds: z.number().nonnegative(),
  backend: BackendReportSchema.nullable(),
  model: ModelSummarySchema.nullable(),
  progress: ProgressSchema.nullable(),
  /** Training loss per reported batch: [global step, loss]. */
  lossTrace: z.array(z.tuple([z.number(), z.number()])),
  epochs: z.array(EpochMetricsSchema),
  failure: z.object({ kind: z.string(), message: z.string() }).nullable(),
  log: z.array(z.object({ level: z.enum(['info', 'warn']), message: z.string() })),
});
export type LiveRun = z.infer<typeof LiveRunSchema>;

export type { RunSummary, RunDetail, RunComparison, Evaluation };

const ExportResultSchema = z.object({ out: z.string(), files: z.array(z.string()) });

/** Method name → request and response schemas. The renderer may call nothing else. */
export const API_METHODS = {
  'app.info': { request: Empty, response: AppInfoSchema },
  /** Native file/folder dialog (Electron only); null when the user cancels. */
  'app.pickPath': { request: PickPathRequestSchema, response: z.object({ path: z.string().nullable() }) },

  'datasets.list': { request: Empty, response: z.array(DatasetManifestSchema) },
  'datasets.import': {
    request: z.object({ path: AbsolutePath, name: z.string().max(100).optional(), labels: LabelModeSchema.optional(), jobId: JobId }),
    response: DatasetManifestSchema,
  },
  'datasets.download': {
    request: z.object({ source: DownloadSourceSchema, labels: LabelModeSchema.optional(), jobId: JobId }),
    response: DatasetManifestSchema,
  },
  'datasets.remove': { request: z.object({ id: z.string().min(1) }), response: Empty },
  'datasets.preview': {
    request: z.object({ id: z.string().min(1), split: z.string().default('train'), perClass: z.number().int().min(1).max(32).default(8) }),
    response: DatasetPreviewSchema,
  },

  /** Parameters and multiply-accumulates per exit of a model configuration. */
  'model.describe': {
    request: z.object({ model: ModelConfigSchema, numClasses: z.number().int().min(2).max(1000).default(10) }), response: ModelSummarySchema,
  },

  'runs.start': {
    request: z.object({
      config: TrainConfigSchema, name: RunNameSchema.optional(), tags: z.array(TagSchema).max(20).optional(), notes: z.string().max(10_000).optional(),
    }),
    response: z.object({ runId: z.string() }),
  },
  'runs.control': { request: z.object({ runId: RunId, action: z.enum(['pause', 'resume', 'stop']) }), response: Empty },
  /** Runs trained in this session, the running ones first. */
  'runs.live': { request: Empty, response: z.array(LiveRunSchema) },
  'runs.list': { request: z.object({ filter: RunFilterSchema.default({}) }), response: z.array(RunSummarySchema) },
  'runs.get': { request: z.object({ runId: RunId }), response: RunDetailSchema },
  /** Renames, adds and removes tags, and/or replaces the notes. */
  'runs.update': {
    request: z.object({
      runId: RunId, name: RunNameSchema.optional(), addTags: z.array(TagSchema).max(20).default([]), removeTags: z.array(z.string()).max(20).default([]),
      notes: z.string().max(10_000).optional(),
    }),
    response: RunDetailSchema,
  },
  'runs.delete': { request: z.object({ runId: RunId }), response: Empty },
  /** Continue a stopped or interrupted run from its last checkpoint. */
  'runs.resume': { request: z.object({ runId: RunId }), response: z.object({ runId: z.string() }) },
  'runs.compare': {
    request: z.object({ runIds: z.array(RunId).min(2, 'select at least 2 runs').max(4, 'compare at most 4 runs') }), response: RunComparisonSchema,
  },

  'eval.run': {
    request: z.object({
      runId: RunId,
      attacks: z.array(EvalAttackSchema).min(1, 'choose at least one attack'),
      samples: z.number().int().min(1).max(100_000).default(256),
      eps: z.number().positive().max(255).default(8),
      target: EvalTargetSchema.default('max-average'),
      checkpoint: CheckpointKindSchema.default(DEFAULT_CHECKPOINT),
      workers: EvalRequestSchema.shape.workers,
      jobId: JobId,
    }),
    /** The evaluation records written (one per attack). */
    response: z.array(EvaluationSchema),
  },

  /** The studies of the data folder (`exitlab study run` starts them). */
  'studies.list': { request: Empty, response: z.array(StudySummarySchema) },
  /** One study: its runs' states, the results table with the paper's rows, and the figures. */
  'studies.get': { request: z.object({ name: StudyNameSchema }), response: StudyViewSchema },
  /** (Re)writes the study's report folder (HTML, Markdown, JSON, PNG and SVG figures). */
  'studies.report': { request: z.object({ name: StudyNameSchema }), response: z.object({ dir: z.string(), files: z.array(z.string()) }) },
  /** Imports the finished bundles of a study run on Slurm into the store, each once (`exitlab study collect`). */
  'studies.collect': { request: z.object({ name: StudyNameSchema }), response: StudyCollectResultSchema },

  /** Exports a run's network (whole, or one 1-based exit) into a new folder, with its metadata. */
  'export.model': { request: ExportRequestSchema.extend({ jobId: JobId }), response: ExportResultSchema },
} as const;

export type ApiMethod = keyof typeof API_METHODS;
export type ApiRequest<M extends ApiMethod> = z.infer<(typeof API_METHODS)[M]['request']>;
/** What a caller may send: defaults may be left out. */
export type ApiRequestInput<M extends ApiMethod> = z.input<(typeof API_METHODS)[M]['request']>;
export type ApiResponse<M extends ApiMethod> = z.infer<(typeof API_METHODS)[M]['response']>;

export const API_EVENTS = {
  /** Every engine event of a live run, as the engine sent it. */
  'run.event': z.object({ runId: z.string(), event: EngineEventSchema }),
  /** A live run's status changed (started, paused, finished, …). */
  'run.status': z.object({ runId: z.string(), status: RunStatusSchema }),
  /** Progress of long work started with a jobId (import, download, evaluation, export). */
  'job.progress': z.object({ jobId: z.string(), fraction: z.number().min(0).max(1).nullable(), message: z.string() }),
  /** Stored runs changed (new, finished, tagged, deleted): lists should refresh. */
  'runs.changed': z.object({ runId: z.string().nullable() }),
} as const;

export type ApiEvent = keyof typeof API_EVENTS;
export type ApiEventPayload<E extends ApiEvent> = z.infer<(typeof API_EVENTS)[E]>;

/** How every call is answered on both transports: errors travel as data with a readable message. */
export type ApiEnvelope<T = unknown> = { ok: true; value: T } | { ok: false; error: { message: string; code: ApiErrorCode } };
export type ApiErrorCode = 'bad-request' | 'unknown-method' | 'not-found' | 'unavailable' | 'failed' | 'internal';

/** The object the renderer talks to, whatever the transport. */
export interface ExitLabApi {
  invoke<M extends ApiMethod>(method: M, request: ApiRequestInput<M>): Promise<ApiResponse<M>>;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends ApiEvent>(event: E, listener: (payload: ApiEventPayload<E>) => void): () => void;
}

/** Channel names of the Electron transport. */
export const IPC_INVOKE = 'exitlab:invoke';
export const IPC_EVENT = 'exitlab:event';
/** Path of the WebSocket endpoint in browser mode. */
export const WS_PATH = '/api';

/** Wire messages of the WebSocket transport. */
export const WsRequestSchema = z.object({ id: z.number().int(), method: z.string(), params: z.unknown() });
export type WsReply = { id: number; envelope: ApiEnvelope } | { event: ApiEvent; payload: unknown };
