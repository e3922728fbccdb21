// The paper-style table (Chen et al. 2022, Tables 2–4): one row per run (its method), one column per
// attack, plus training time, read from each run's latest evaluation report. Which accuracy a cell
// shows is the view: the last exit, one exit, or the early-exit model at a budget. A cell stays
// empty where the report's number is no answer for the view: an attack that did not aim at the
// viewed classifier, or an infeasible budget.
import { EVAL_ATTACKS, PaperTableSchema, aimOf, type EvalAttack, type EvaluationReport, type PaperTable } from '../../../src-shared/evaluation';
import type { RunDetail } from '../../../src-shared/runs';
import { attackNamed } from './attack-specs';

export type TableView = { kind: 'last' } | { kind: 'exit'; exit: number } | { kind: 'early'; fraction: number };

export function parseView(text: string): TableView {
  if (text === 'last') return { kind: 'last' };
  let m = /^exit:([1-9][0-9]*)$/.exec(text);
  if (m) return { kind: 'exit', exit: Number(m[1]) };
  m = /^early:([0-9]*\.?[0-9]+)$/.exec(text);
  if (m && Number(m[1]) > 0) return { kind: 'early', fraction: Number(m[1]) };
  throw new Error(`a view is last, exit:N or early:F (a budget fraction such as 0.5), got '${text}'`);
}

const describeView = (v: TableView): string =>
  v.kind === 'last' ? 'last exit' : v.kind === 'exit' ? `exit ${v.exit}` : `early-exit model at budget ${v.fraction} of the full cost`;

type Result = EvaluationReport['attacks'][number];

/** The accuracy a view reads from one attack's result, or why there is none. */
function cell(a: Result, view: TableView, reportTarget: string | undefined): { value: number | null; note?: string } {
  if (view.kind === 'early') {
    const p = a.earlyExit.find((q) => Math.abs(q.fraction - view.fraction) < 1e-9);
    if (!p) return { value: null };
    if (p.feasible === false) return { value: null, note: `budget ${view.fraction} is infeasible: even exit 1 costs more` };
    if (p.aimed === false) return { value: null, note: `${a.label} aimed at ${reportTarget ?? 'one exit'}, not at the early-exit model` };
    return { value: p.accuracy };
  }
  const e = view.kind === 'last' ? a.perExit.length - 1 : view.exit - 1;
  if (e < 0 || a.perExit[e] === undefined) return { value: null };
  if (aimOf(a, e, reportTarget) === null) return { value: null, note: `${a.label} aimed at ${reportTarget}, not at exit ${e + 1}` };
  return { value: a.perExit[e] };
}

export interface TableInput {
  detail: RunDetail;
  /** The run's latest evaluation report (null: not evaluated; the row shows training time only). */
  report: EvaluationReport | null;
}

/**
 * The table of some runs. `columns` fixes the attacks (the paper's: PAPER_ATTACKS), shown even
 * where no report has them; otherwise every attack some report has, in the order of EVAL_ATTACKS.
 */
export function buildPaperTable(inputs: TableInput[], view: TableView, columns?: readonly EvalAttack[]): PaperTable {
  const attacks: Array<{ attack: string; label: string }> = [];
  const found = (attack: string) => inputs.map((i) => i.report?.attacks.find((a) => a.attack === attack)).find(Boolean);
  if (columns) {
    for (const attack of columns) attacks.push({ attack, label: found(attack)?.label ?? attackNamed(attack).label });
  } else {
    for (const { report } of inputs) {
      for (const a of report?.attacks ?? []) if (!attacks.some((x) => x.attack === a.attack)) attacks.push({ attack: a.attack, label: a.label });
    }
    attacks.sort((a, b) => EVAL_ATTACKS.indexOf(a.attack as EvalAttack) - EVAL_ATTACKS.indexOf(b.attack as EvalAttack));
  }
  const rows = inputs.map(({ detail, report }) => {
    const cells: Record<string, number | null> = {};
    const perExit: Record<string, number[]> = {};
    const notes: string[] = [];
    for (const { attack } of attacks) {
      const a = report?.attacks.find((x) => x.attack === attack);
      const c = a ? cell(a, view, report?.target) : { value: null };
      cells[attack] = c.value;
      if (c.note && !notes.includes(c.note)) notes.push(c.note);
      if (a) perExit[attack] = a.perExit;
    }
    return {
      runId: detail.summary.id,
      method: detail.summary.method,
      dataset: detail.summary.dataset,
      epochs: detail.summary.epochsDone,
      trainingSeconds: trainingSeconds(detail),
      totalSeconds: detail.summary.seconds || null,
      samples: report?.samples ?? null,
      eps: report?.eps ?? null,
      checkpoint: report?.checkpoint ?? null,
      checkpointEpoch: report?.epoch ?? null,
      target: report?.target ?? null,
      cells,
      perExit,
      notes,
      warnings: report?.warnings ?? [],
    };
  });
  return PaperTableSchema.parse({ view: describeView(view), attacks, rows });
}

/** Seconds of training of a run: the sum of its epochs' engine time (null before its first epoch). */
export const trainingSeconds = (detail: RunDetail | null): number | null =>
  detail?.epochs.length ? detail.epochs.reduce((s, e) => s + e.seconds, 0) : null;

/** An accuracy cell in %, '–' where there is no number. */
export const pct = (v: number | null) => (v === null ? '–' : (100 * v).toFixed(1));
export const duration = (s: number | null): string =>
  (s === null ? '–' : s >= 3600 ? `${(s / 3600).toFixed(2)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

/** The table as GitHub Markdown: accuracies in %, training time, then notes (sample sizes, ε, checkpoint, warnings). */
export function paperTableMarkdown(t: PaperTable): string {
  const header = ['Method', 'Run', 'Data set', 'Epochs', ...t.attacks.map((a) => a.label), 'Training time'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 3 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of t.rows) {
    const cells = [r.method, r.runId, r.dataset, String(r.epochs), ...t.attacks.map((a) => pct(r.cells[a.attack] ?? null)), duration(r.trainingSeconds)];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const notes = [`Accuracy (%) of the ${t.view} under each attack; training time is the sum of the epochs' engine time.`];
  for (const r of t.rows) {
    if (r.samples === null) {
      notes.push(`${r.runId}: not evaluated yet (\`exitlab eval --run ${r.runId}\`).`);
      continue;
    }
    const ckpt = r.checkpoint ? `, ${r.checkpoint} checkpoint (epoch ${r.checkpointEpoch})` : '';
    const target = r.target ? `, attacks aimed at ${r.target}` : '';
    notes.push(`${r.runId}: first ${r.samples} test images, L∞ ε = ${r.eps}/255${ckpt}${target}.`);
    for (const n of r.notes) notes.push(`${r.runId}: – ${n}.`);
    for (const w of r.warnings) notes.push(`${r.runId}: ⚠ ${w}`);
  }
  return [...lines, '', ...notes.map((n) => `- ${n}`)].join('\n') + '\n';
}
