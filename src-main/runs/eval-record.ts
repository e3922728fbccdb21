// An evaluation's results on disk and in the store: its report file in the run's folder and one
// store record per attack, written together (a refused store write removes the file again), and
// the reports a run's folder holds.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EvaluationReportSchema, type EvaluationReport } from '../../src-shared/evaluation';
import type { Evaluation, EvaluationInput } from '../../src-shared/runs';
import type { RunStore } from '../store/run-store';
import { REPORTS_DIR, runDirOf, storedPath } from './paths';
import { tempPathFor } from '../temp-files';
import { rethrowWriteFailure } from '../write-errors';

/** The store record of one attack; its early-exit entry is the budget closest to half the full cost. */
function evaluationInputs(report: EvaluationReport): EvaluationInput[] {
  const exits = report.exits.length;
  return report.attacks.map((a) => {
    const point = [...a.earlyExit].sort((p, q) => Math.abs(p.fraction - 0.5) - Math.abs(q.fraction - 0.5))[0];
    return {
      attack: a.attack,
      eps: a.eps,
      steps: a.steps,
      samples: a.samples,
      checkpoint: report.checkpoint,
      perExitAcc: a.perExit,
      earlyExit: point ? {
        thresholds: Array.from({ length: exits }, (_, k) => (k === exits - 1 ? 0 : point.threshold)),
        accuracy: point.accuracy,
        averageMacs: point.macs,
        exitShare: point.exitShare,
        feasible: point.feasible,
        aimed: point.aimed,
      } : null,
      target: report.target,
      aimedAt: a.aimedAt.length ? a.aimedAt : null,
    };
  });
}

export interface RecordedEvaluation {
  report: EvaluationReport;
  /** Absolute path of the report file in the run's folder. */
  file: string;
  evaluations: Evaluation[];
}

/** Writes the report file and the store records; if the store refuses, the file is removed again. */
export function recordEvaluation(home: string, store: RunStore, report: EvaluationReport): RecordedEvaluation {
  const runDir = runDirOf(home, report.runId);
  const dir = path.join(runDir, REPORTS_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `eval-${report.createdAt.replace(/[:.]/g, '-')}-${crypto.randomBytes(3).toString('hex')}.json`);
  const tmp = tempPathFor(file);
  try {
    fs.writeFileSync(tmp, JSON.stringify(report, null, 2) + '\n');
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    rethrowWriteFailure(err, `the evaluation report ${file}`, file);
  }
  let ids: number[];
  try {
    ids = store.addEvaluations(report.runId, evaluationInputs(report), {
      kind: 'evaluation-report', path: storedPath(runDir, file),
      meta: {
        attacks: report.attacks.map((a) => a.attack), samples: report.samples, eps: report.eps, checkpoint: report.checkpoint,
        warnings: report.warnings.length,
      },
    });
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
  const evaluations = store.getRun(report.runId).evaluations.filter((e) => ids.includes(e.id));
  return { report, file, evaluations };
}

/** Every evaluation report in a run's folder, newest last. */
export function listReports(home: string, runId: string): Array<{ file: string; report: EvaluationReport }> {
  const dir = path.join(runDirOf(home, runId), REPORTS_DIR);
  if (!fs.existsSync(dir)) return [];
  const out: Array<{ file: string; report: EvaluationReport }> = [];
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const file = path.join(dir, name);
    try {
      out.push({ file, report: EvaluationReportSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8'))) });
    } catch {
      // A damaged or foreign file is not a report.
    }
  }
  return out.sort((a, b) => a.report.createdAt.localeCompare(b.report.createdAt));
}
