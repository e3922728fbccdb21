// `<home>/studies/<name>/slurm.json`: the study's shared directory, the checkout its tasks run,
// and every submission (job id and array indices), so that status, collect and a second `study run`
// know which Slurm job holds each cell. Beside it, slurm-job.sh: the latest job script.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SlurmStudyRecordSchema, type SlurmStudyRecord, type SlurmSubmission } from '../../../src-shared/slurm';
import { writeFileAtomically } from '../../temp-files';
import { readStudyJson, studyDirOf } from '../study-folder';

const recordFile = (home: string, name: string) => path.join(studyDirOf(home, name), 'slurm.json');
export const jobScriptFile = (home: string, name: string) => path.join(studyDirOf(home, name), 'slurm-job.sh');

/** The study's Slurm record, or null for a study never submitted to Slurm. */
export function readSlurmRecord(home: string, name: string): SlurmStudyRecord | null {
  const file = recordFile(home, name);
  return fs.existsSync(file) ? readStudyJson(file, SlurmStudyRecordSchema, 'the Slurm record') : null;
}

export function writeSlurmRecord(home: string, name: string, record: SlurmStudyRecord): void {
  writeFileAtomically(recordFile(home, name), JSON.stringify(SlurmStudyRecordSchema.parse(record), null, 2) + '\n', 'the Slurm record');
}

/** The latest submission that ran the cell at grid index `index`, as `<job>_<index>`; null if none did. */
export function recordedJobOf(record: SlurmStudyRecord, index: number): { job: string; submission: SlurmSubmission } | null {
  const submission = [...record.submissions].reverse().find((s) => s.indices.includes(index));
  return submission ? { job: `${submission.jobId}_${index}`, submission } : null;
}
