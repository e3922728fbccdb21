// What Slurm's tools print, read into plain values: array index lists, `scontrol -o show job`,
// `sacct -P`, Slurm's job state words, and the line slurmstepd writes into a task's log when it
// cancels it. Pure functions, so that each format is tested on its own.
import type { SlurmTaskState } from '../../../src-shared/slurm';

/** "0-3,7,9-13:2" (an optional "%N" throttle at the end) → [0, 1, 2, 3, 7, 9, 11, 13]. */
export function parseArrayIndices(text: string): number[] {
  const out: number[] = [];
  for (const part of text.replace(/^\[|\]$/g, '').replace(/%\d+$/, '').split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) throw new Error(`not a Slurm array index list: '${text}'`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]));
    for (let i = first; i <= last; i += step) out.push(i);
  }
  return out;
}

/** Indices as sbatch's --array takes them, runs of consecutive ones folded: [0, 1, 2, 5] → "0-2,5". */
export function formatArrayIndices(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** One array task (or several, while they are pending together) as Slurm reports it. */
export interface SlurmTaskRecord {
  arrayJobId: string;
  indices: number[];
  /** Slurm's word: PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, … */
  state: string;
  reason: string | null;
}

const field = (line: string, key: string): string | null => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1] ?? null;

/** `scontrol -o show job <id>`: one line per job, `Key=Value` pairs; lines of non-array jobs are left out. */
export function parseScontrolJobs(text: string): SlurmTaskRecord[] {
  return text.split('\n').flatMap((line) => {
    const arrayJobId = field(line, 'ArrayJobId');
    const tasks = field(line, 'ArrayTaskId');
    const state = field(line, 'JobState');
    if (!arrayJobId || !tasks || !state) return [];
    const reason = field(line, 'Reason');
    return [{ arrayJobId, indices: parseArrayIndices(tasks), state, reason: reason && reason !== 'None' ? reason : null }];
  });
}

/** `sacct -n -P -X -o JobID,State`: "123_4|COMPLETED", "123_[5-7]|PENDING", "123_8|CANCELLED by 0". */
export function parseSacct(text: string): SlurmTaskRecord[] {
  return text.split('\n').flatMap((line) => {
    const [id, state] = line.trim().split('|');
    const m = /^(\d+)_(\[[^\]]+\]|\d+)$/.exec(id ?? '');
    if (!m || !state) return [];
    return [{ arrayJobId: m[1], indices: parseArrayIndices(m[2]), state: state.split(' ')[0], reason: null }];
  });
}

const STATE_OF_WORD: Record<string, SlurmTaskState> = {
  PENDING: 'pending', CONFIGURING: 'pending', REQUEUED: 'pending', REQUEUE_HOLD: 'pending', REQUEUE_FED: 'pending', RESV_DEL_HOLD: 'pending',
  RUNNING: 'running', COMPLETING: 'running', SUSPENDED: 'running', STOPPED: 'running', SIGNALING: 'running', STAGE_OUT: 'running', RESIZING: 'running',
  COMPLETED: 'completed',
  CANCELLED: 'cancelled',
  TIMEOUT: 'timed-out', DEADLINE: 'timed-out',
  FAILED: 'failed', NODE_FAIL: 'failed', BOOT_FAIL: 'failed', OUT_OF_MEMORY: 'failed', PREEMPTED: 'failed', REVOKED: 'failed', SPECIAL_EXIT: 'failed',
};

/** A Slurm state word as a cell state (a word this list does not know is 'unknown', never guessed). */
export const taskStateOf = (word: string): SlurmTaskState => STATE_OF_WORD[word.replace(/\+$/, '')] ?? 'unknown';

/**
 * What slurmstepd writes into the task's log when it ends it: "*** JOB 7 ON node1 CANCELLED AT
 * 2026-12-03T09:19:27 ***", with " DUE TO TIME LIMIT" (or preemption, node failure) before the
 * closing stars. Where Slurm no longer remembers a job and keeps no accounting, this line is what
 * tells a cancelled task from one that timed out.
 */
export function endInLog(log: string): { state: SlurmTaskState; detail: string } | null {
  const m = /\*\*\* JOB \d+ ON \S+ CANCELLED AT \S+(?: DUE TO ([A-Z ]+?))? \*\*\*/.exec(log);
  if (!m) return null;
  const why = m[1];
  if (!why) return { state: 'cancelled', detail: 'cancelled (its log)' };
  return { state: why === 'TIME LIMIT' ? 'timed-out' : 'failed', detail: `cancelled due to ${why.toLowerCase()} (its log)` };
}
