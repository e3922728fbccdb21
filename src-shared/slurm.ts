// A study run on a Slurm cluster: the sbatch options a user gives, what the study folder records of
// its submissions, the marker each array task writes in the shared directory, and where each grid
// cell stands as Slurm (or, where Slurm has forgotten it, the task's marker) tells it. Every one of
// these files is read back through these schemas: the shared directory is written by other machines.
import { z } from 'zod';

const NAME = /^[A-Za-z0-9_.+-]{1,64}$/;
/** Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or no limit. */
const TIME = /^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$/;
/** Options the job script sets itself: passing them through would break the task ↔ cell mapping. */
const OWN_OPTIONS = /^(-a|-o|-e|-D|-J)$|^--(array|output|error|chdir|wrap|parsable|job-name)(=|$)/;

export const SlurmOptionsSchema = z.object({
  partition: z.string().regex(NAME, 'a partition name is letters, digits, "_", ".", "+" or "-"').optional(),
  /** Generic resources per node, as sbatch takes them (gpu:1, gpu:a100:2). */
  gres: z.string().regex(/^[A-Za-z0-9_.:=,-]{1,200}$/, 'a gres is like gpu:1 or gpu:a100:2').optional(),
  gpusPerTask: z.string().regex(/^([A-Za-z0-9_.-]+:)?\d+$/, 'gpus per task is a count, optionally typed (a100:1)').optional(),
  time: z.string().regex(TIME, 'a time limit is minutes, HH:MM:SS or D-HH:MM:SS').optional(),
  cpusPerTask: z.number().int().min(1).max(4096).optional(),
  mem: z.string().regex(/^\d+[KMGT]?$/, 'memory is a number with an optional K, M, G or T (16G)').optional(),
  account: z.string().regex(NAME, 'an account name is letters, digits, "_", ".", "+" or "-"').optional(),
  qos: z.string().regex(NAME, 'a QOS name is letters, digits, "_", ".", "+" or "-"').optional(),
  /** Further sbatch options, each written as one `#SBATCH` line of the script. */
  sbatchArgs: z.array(z.string().min(2).max(500)
    .regex(/^-[^\n\r]*$/, 'an sbatch argument is one option starting with "-", on one line')
    .refine((a) => !OWN_OPTIONS.test(a.split(/[= ]/, 1)[0]), 'the job script sets --array, --output, --error, --chdir and --job-name itself'))
    .default([]),
});
export type SlurmOptions = z.infer<typeof SlurmOptionsSchema>;

/** One `sbatch` of the study's job array: which cells (grid indices) it ran, under which job id. */
const SlurmSubmissionSchema = z.object({
  jobId: z.string().regex(/^\d+$/),
  submittedAt: z.string(),
  /** Array indices, each a cell's place in the grid. */
  indices: z.array(z.number().int().nonnegative()).min(1),
  options: SlurmOptionsSchema,
});
export type SlurmSubmission = z.infer<typeof SlurmSubmissionSchema>;

/** `<home>/studies/<name>/slurm.json`: where the study's tasks run and every submission so far. */
export const SlurmStudyRecordSchema = z.object({
  formatVersion: z.literal(1),
  /** The cluster file system folder holding the data set, the tasks' data folders and bundles. */
  sharedDir: z.string().min(1),
  /** This project's checkout the tasks run (`node <repo>/bin/exitlab.js`). */
  repo: z.string().min(1),
  submissions: z.array(SlurmSubmissionSchema),
});
export type SlurmStudyRecord = z.infer<typeof SlurmStudyRecordSchema>;

/** The Slurm job of the task that wrote a marker, from its environment (null when run by hand). */
const TaskJobSchema = z.object({ arrayJobId: z.string(), taskId: z.string(), jobId: z.string() }).nullable();

/**
 * `<shared>/studies/<name>/tasks/<cell>/marker.json`, rewritten whole by the task at each step. A
 * `completed` marker is written only after the bundle it names is in place, so it is the proof that
 * the bundle is whole; its checksum ties the two.
 */
export const TaskMarkerSchema = z.discriminatedUnion('state', [
  z.object({
    state: z.literal('running'), cell: z.string(), job: TaskJobSchema, host: z.string(), pid: z.number().int().positive(), startedAt: z.string(),
    runId: z.string().nullable(), startEpoch: z.number().int().positive().nullable(), epochsDone: z.number().int().nonnegative(),
  }),
  z.object({
    state: z.literal('completed'), cell: z.string(), job: TaskJobSchema, finishedAt: z.string(), runId: z.string().min(1),
    bundle: z.object({ file: z.string().min(1), bytes: z.number().int().positive(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  }),
  /** Training or evaluation failed; the task's log has the details. */
  z.object({ state: z.literal('failed'), cell: z.string(), job: TaskJobSchema, finishedAt: z.string(), runId: z.string().nullable(), message: z.string() }),
  /** Slurm signalled the task (scancel, its time limit, preemption) and it stopped on a checkpoint. */
  z.object({ state: z.literal('stopped'), cell: z.string(), job: TaskJobSchema, finishedAt: z.string(), runId: z.string().nullable() }),
]);
export type TaskMarker = z.infer<typeof TaskMarkerSchema>;

const SLURM_TASK_STATES = ['not-submitted', 'pending', 'running', 'completed', 'failed', 'timed-out', 'cancelled', 'unknown'] as const;
const SlurmTaskStateSchema = z.enum(SLURM_TASK_STATES);
export type SlurmTaskState = z.infer<typeof SlurmTaskStateSchema>;

/** Where a cell's latest task stands, and who said so. */
export const SlurmCellSchema = z.object({
  state: SlurmTaskStateSchema,
  /** `<array job>_<index>`, as squeue and scancel name it; null before the first submission. */
  job: z.string().nullable(),
  source: z.enum(['slurm', 'accounting', 'marker', 'none']),
  /** Slurm's own state word or reason, or why the state is what it is. */
  detail: z.string(),
  /** The cell's run is in this data folder's store (its bundle was collected). */
  collected: z.boolean(),
  /** Epochs the running task has finished, from its marker. */
  epochsDone: z.number().int().nonnegative().nullable(),
});
export type SlurmCell = z.infer<typeof SlurmCellSchema>;

export const StudyCollectResultSchema = z.object({
  imported: z.array(z.object({ key: z.string(), runId: z.string() })),
  /** Cells collected before: nothing of them is imported again. */
  alreadyCollected: z.array(z.string()),
  /** Finished bundles that could not be imported (a bad checksum, …): nothing of them entered the store. */
  skipped: z.array(z.object({ key: z.string(), reason: z.string() })),
  /** Cells without a finished bundle yet. */
  waiting: z.array(z.string()),
});
export type StudyCollectResult = z.infer<typeof StudyCollectResultSchema>;
