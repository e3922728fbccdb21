// The paper-style table (Chen et al. 2022, Tables 2–4): one row per run (its method), one column per
// attack, plus training time, read from each run's latest evaluation report. Which accuracy a cell
// shows is the view: the last exit, one exit, or the early-exit model at a budget.
import { PaperTableSchema, type EvaluationReport, type PaperTable } from '../../../src-shared/evaluation';
import type { RunDetail } from '../../../src-shared/runs';

export type TableView = { kind: 'last' } | { kind: 'exit'; exit: number } | { kind: 'early'; fraction: number };

export function parseView(text: string): TableView {
  if (text === 'last') return { kind: 'last' };
  let m = /^exit:([1-9][0-9]*)$/.exec(text);
  if (m) return { kind: 'exit', exit: Number(m[1]) };
  m = /^early:([0-9]*\.?[0-9]+)$/.exec(text);
  if (m && Number(m[1]) > 0) return { kind: 'early', fraction: Number(m[1]) };
  throw new Error(`a view is last, exit:N or early:F (a budget fraction such as 0.5), got '${text}'`);
}

export const describeView = (v: TableView): string =>
  v.kind === 'last' ? 'last exit' : v.kind === 'exit' ? `exit ${v.exit}` : `early-exit model at budget ${v.fraction} of the full cost`;

/** The accuracy a view reads from one attack's result (null when the result does not have it). */
function cell(a: EvaluationReport['attacks'][number], view: TableView): number | null {
  if (view.kind === 'last') return a.perExit.length ? a.perExit[a.perExit.length - 1] : null;
  if (view.kind === 'exit') return a.perExit[view.exit - 1] ?? null;
  return a.earlyExit.find((p) => Math.abs(p.fraction - view.fraction) < 1e-9)?.accuracy ?? null;
}

export interface TableInput {
  detail: RunDetail;
  /** The run's latest evaluation report (null: not evaluated; the row shows training time only). */
  report: EvaluationReport | null;
}

export function buildPaperTable(inputs: TableInput[], view: TableView): PaperTable {
  const attacks: Array<{ attack: string; label: string }> = [];
  for (const { report } of inputs) {
    for (const a of report?.attacks ?? []) if (!attacks.some((x) => x.attack === a.attack)) attacks.push({ attack: a.attack, label: a.label });
  }
  // Columns in the order of the paper: clean first, AutoAttack last.
  const order = ['clean', 'fgsm', 'pgd20', 'pgd50', 'cw', 'apgd-ce', 'apgd-t', 'fab-t', 'square', 'aa'];
  attacks.sort((a, b) => order.indexOf(a.attack) - order.indexOf(b.attack));
  const rows = inputs.map(({ detail, report }) => {
    const cells: Record<string, number | null> = {};
    const perExit: Record<string, number[]> = {};
    for (const { attack } of attacks) {
      const a = report?.attacks.find((x) => x.attack === attack);
      cells[attack] = a ? cell(a, view) : null;
      if (a) perExit[attack] = a.perExit;
    }
    const trained = detail.epochs.reduce((s, e) => s + e.seconds, 0);
    return {
      runId: detail.summary.id,
      method: detail.summary.method,
      dataset: detail.summary.dataset,
      epochs: detail.summary.epochsDone,
      trainingSeconds: detail.epochs.length ? trained : null,
      totalSeconds: detail.summary.seconds || null,
      samples: report?.samples ?? null,
      eps: report?.eps ?? null,
      cells,
      perExit,
      warnings: report?.warnings ?? [],
    };
  });
  return PaperTableSchema.parse({ view: describeView(view), attacks, rows });
}

const pct = (v: number | null) => (v === null ? '–' : (100 * v).toFixed(1));
export const duration = (s: number | null): string => (s === null ? '–' : s >= 3600 ? `${(s / 3600).toFixed(2)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

/** The table as GitHub Markdown: accuracies in %, training time, then notes (sample sizes, ε, warnings). */
export function paperTableMarkdown(t: PaperTable): string {
  const header = ['Method', 'Run', 'Data set', 'Epochs', ...t.attacks.map((a) => a.label), 'Training time'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 3 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of t.rows) {
    lines.push(`| ${[r.method, r.runId, r.dataset, String(r.epochs), ...t.attacks.map((a) => pct(r.cells[a.attack] ?? null)), duration(r.trainingSeconds)].join(' | ')} |`);
  }
  const notes = [`Accuracy (%) of the ${t.view} under each attack; training time is the sum of the epochs' engine time.`];
  for (const r of t.rows) {
    notes.push(r.samples === null ? `${r.runId}: not evaluated yet (\`exitlab eval --run ${r.runId}\`).` : `${r.runId}: first ${r.samples} test images, L∞ ε = ${r.eps}/255.`);
    for (const w of r.warnings) notes.push(`${r.runId}: ⚠ ${w}`);
  }
  return [...lines, '', ...notes.map((n) => `- ${n}`)].join('\n') + '\n';
}
