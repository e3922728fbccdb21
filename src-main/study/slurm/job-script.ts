// The study's job array as one bash script: the sbatch options as #SBATCH lines, then one case per
// array index with the exact command that task runs (the headless CLI on one cell of the grid). It
// is kept in the study folder, so a user can read it, edit it and submit it again with sbatch.
import * as path from 'node:path';
import type { SlurmOptions } from '../../../src-shared/slurm';
import type { StudyCell, StudyRecipe } from '../../../src-shared/study';
import { logsDirOf } from './shared-dir';
import { formatArrayIndices } from './slurm-parse';
import { studyDirOf } from '../study-folder';

const quote = (s: string) => (/^[A-Za-z0-9_./:=,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** What array task `index` runs: train (or resume) and evaluate the cell, then write its bundle and marker. */
function taskCommand(repo: string, shared: string, name: string, cell: StudyCell): string {
  return ['node', path.join(repo, 'bin', 'exitlab.js'), 'study', 'task', name, '--cell', cell.key, '--shared-dir', shared].map(quote).join(' ');
}

function sbatchLines(options: SlurmOptions): string[] {
  const named: Array<[string, string | number | undefined]> = [
    ['partition', options.partition], ['account', options.account], ['qos', options.qos], ['time', options.time],
    ['cpus-per-task', options.cpusPerTask], ['mem', options.mem], ['gres', options.gres], ['gpus-per-task', options.gpusPerTask],
  ];
  return [...named.filter(([, v]) => v !== undefined).map(([k, v]) => `--${k}=${v}`), ...options.sbatchArgs];
}

export interface JobScriptInput {
  recipe: StudyRecipe;
  cells: StudyCell[];
  /** Grid indices this submission runs. */
  indices: number[];
  shared: string;
  repo: string;
  options: SlurmOptions;
}

export function jobScript({ recipe, cells, indices, shared, repo, options }: JobScriptInput): string {
  const name = recipe.name;
  const array = formatArrayIndices(indices);
  return [
    '#!/bin/bash',
    `# ExitLab study '${name}': its ${cells.length} run(s) as one Slurm job array, the array index being the`,
    '# run\'s place in the grid. Each task trains its run in its own data folder under the shared',
    '# directory (resuming it from its last checkpoint when it is there already), evaluates it, and',
    `# writes a run bundle and a marker into ${path.join(studyDirOf(shared, name), 'tasks', '<run>')}.`,
    `# Written and submitted by \`exitlab study run ${name} --on slurm\`; to rerun runs by hand, set`,
    `# --array below and \`sbatch\` this file. \`exitlab study status ${name}\` and \`exitlab study collect ${name}\` follow them.`,
    `#SBATCH --job-name=exitlab-${name}`,
    `#SBATCH --array=${array}`,
    `#SBATCH --chdir=${studyDirOf(shared, name)}`,
    `#SBATCH --output=${logsDirOf(shared, name)}/%A_%a.out`,
    ...sbatchLines(options).map((o) => `#SBATCH ${o}`),
    'set -eu',
    '# exec: Slurm\'s SIGTERM (scancel, the time limit) then reaches exitlab itself, which marks the task stopped;',
    '# the next task of the run resumes it from its last checkpoint.',
    'case "${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}" in',
    ...cells.map((cell, i) => `  ${i}) exec ${taskCommand(repo, shared, name, cell)} ;;`),
    `  *) echo "study ${name} has no run at array index $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;`,
    'esac',
    '',
  ].join('\n');
}
