// What Slurm 22.05's tools print (lines taken from the test cluster), read into values.
import { describe, expect, it } from 'vitest';
import { endInLog, formatArrayIndices, parseArrayIndices, parseSacct, parseScontrolJobs, taskStateOf } from '../../../src-main/study/slurm/slurm-parse';

describe('Slurm output', () => {
  it('reads and writes array index lists', () => {
    expect(parseArrayIndices('0-3,7,9-13:2')).toEqual([0, 1, 2, 3, 7, 9, 11, 13]);
    expect(parseArrayIndices('[1-2]')).toEqual([1, 2]);
    expect(parseArrayIndices('4-5%1')).toEqual([4, 5]);
    expect(() => parseArrayIndices('a-b')).toThrow(/not a Slurm array index list/);
    expect(formatArrayIndices([5, 0, 1, 2, 2, 7, 8])).toBe('0-2,5,7-8');
    expect(formatArrayIndices([3])).toBe('3');
  });

  it('reads scontrol -o show job: one task a line, pending tasks grouped', () => {
    const text = [
      'JobId=1 ArrayJobId=1 ArrayTaskId=2-3 JobName=exitlab-tiny UserId=root(0) JobState=PENDING Reason=Resources Dependency=(null)',
      'JobId=3 ArrayJobId=1 ArrayTaskId=1 JobName=exitlab-tiny UserId=root(0) JobState=CANCELLED Reason=None Dependency=(null)',
      'JobId=2 ArrayJobId=1 ArrayTaskId=0 JobName=exitlab-tiny JobState=COMPLETED Reason=None Command=/a path/with spaces.sh',
      'JobId=9 JobName=plain JobState=RUNNING Reason=None',
    ].join('\n');
    expect(parseScontrolJobs(text)).toEqual([
      { arrayJobId: '1', indices: [2, 3], state: 'PENDING', reason: 'Resources' },
      { arrayJobId: '1', indices: [1], state: 'CANCELLED', reason: null },
      { arrayJobId: '1', indices: [0], state: 'COMPLETED', reason: null },
    ]);
  });

  it('reads sacct -P, with "CANCELLED by <uid>" and grouped pending tasks', () => {
    expect(parseSacct('12_0|COMPLETED\n12_1|CANCELLED by 0\n12_[2-3]|PENDING\n13|RUNNING\n')).toEqual([
      { arrayJobId: '12', indices: [0], state: 'COMPLETED', reason: null },
      { arrayJobId: '12', indices: [1], state: 'CANCELLED', reason: null },
      { arrayJobId: '12', indices: [2, 3], state: 'PENDING', reason: null },
    ]);
  });

  it('maps Slurm state words to cell states, never guessing an unknown one', () => {
    expect(['PENDING', 'RUNNING', 'COMPLETING', 'COMPLETED', 'CANCELLED', 'TIMEOUT', 'FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'WHATEVER'].map(taskStateOf))
      .toEqual(['pending', 'running', 'running', 'completed', 'cancelled', 'timed-out', 'failed', 'failed', 'failed', 'unknown']);
  });

  it("reads slurmstepd's line in a task's log: cancelled, or cancelled due to its time limit", () => {
    expect(endInLog('x\nslurmstepd-vm: error: *** JOB 3 ON vm CANCELLED AT 2026-12-03T09:19:27 ***\n'))
      .toEqual({ state: 'cancelled', detail: 'cancelled (its log)' });
    expect(endInLog('slurmstepd: error: *** JOB 88 ON node7 CANCELLED AT 2026-12-03T10:00:00 DUE TO TIME LIMIT ***')?.state).toBe('timed-out');
    expect(endInLog('slurmstepd: error: *** JOB 88 ON node7 CANCELLED AT 2026-12-03T10:00:00 DUE TO NODE FAILURE ***'))
      .toEqual({ state: 'failed', detail: 'cancelled due to node failure (its log)' });
    expect(endInLog('epoch 1: clean 6%')).toBeNull();
  });
});
