// The marker an array task keeps beside its bundle: rewritten whole (atomically) at each step, read
// back through its schema by whoever follows the study.
import * as fs from 'node:fs';
import { TaskMarkerSchema, type TaskMarker } from '../../../src-shared/slurm';
import { writeFileAtomically } from '../../temp-files';
import { readStudyJson } from '../study-folder';

/** The task's marker, or null before its first start. Throws StudyError for a damaged one. */
export function readTaskMarker(file: string): TaskMarker | null {
  return fs.existsSync(file) ? readStudyJson(file, TaskMarkerSchema, 'the task marker') : null;
}

export function writeTaskMarker(file: string, marker: TaskMarker): void {
  writeFileAtomically(file, JSON.stringify(TaskMarkerSchema.parse(marker), null, 2) + '\n', 'the task marker');
}

/** The Slurm job a task runs in, from the environment sbatch gives it; null when run by hand. */
export function jobOfEnvironment(env = process.env): TaskMarker['job'] {
  const { SLURM_ARRAY_JOB_ID: arrayJobId, SLURM_ARRAY_TASK_ID: taskId, SLURM_JOB_ID: jobId } = env;
  return arrayJobId && taskId && jobId ? { arrayJobId, taskId, jobId } : null;
}

/** `<array job>_<index>`, the name squeue, scancel and the log file use. */
export const taskJobName = (job: NonNullable<TaskMarker['job']>) => `${job.arrayJobId}_${job.taskId}`;
