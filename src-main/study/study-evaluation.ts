// How a study evaluates its runs, and how it finds that evaluation again: the newest report of the
// run that answers the study's request (its attacks, images, radius, target, checkpoint and seed),
// so an evaluated run is not evaluated twice.
import type { EvalRequest, EvaluationReport } from '../../src-shared/evaluation';
import { EvalRequestSchema } from '../../src-shared/evaluation';
import type { StudyRecipe } from '../../src-shared/study';
import { listReports } from '../runs/eval-record';

export function studyEvalRequest(recipe: StudyRecipe, runId: string): EvalRequest {
  return EvalRequestSchema.parse({ ...recipe.eval, runId });
}

function answers(report: EvaluationReport, request: EvalRequest): boolean {
  const attacks = report.attacks.map((a) => a.attack);
  return request.attacks.every((a) => attacks.includes(a))
    && report.samples === request.samples && report.eps === request.eps && report.target === request.target
    && report.checkpoint === request.checkpoint && report.seed === request.seed;
}

export function findStudyReport(home: string, request: EvalRequest): EvaluationReport | null {
  return listReports(home, request.runId).reverse().find((r) => answers(r.report, request))?.report ?? null;
}
