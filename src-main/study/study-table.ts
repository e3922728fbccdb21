// The study's results table: one measured row per run of the grid (its last exit under each of the
// study's attacks, and its training time) and, below them and labelled as such, the rows the paper
// reports for the same columns. The published rows are CIFAR-10 after 100 epochs on the paper's
// GPU; a study's rows are whatever its recipe trained, so the labels keep the two apart.
import { PAPER_CIFAR10_ROWS } from '../../src-shared/paper-results';
import type { PaperTable } from '../../src-shared/evaluation';
import { buildPaperTable, duration, pct } from '../engine/eval/paper-table';
import type { StudyCellStatus } from './study-status';
import type { StudyRecipe } from '../../src-shared/study';

export interface StudyTableRow {
  cells: string[];
  source: 'measured' | 'paper';
}
export interface StudyTable {
  header: string[];
  rows: StudyTableRow[];
  /** The measured part as the paper-table schema has it (per-exit numbers, notes), for report.json. */
  measured: PaperTable;
  notes: string[];
}

export function studyTable(recipe: StudyRecipe, statuses: StudyCellStatus[]): StudyTable {
  const done = statuses.filter((s) => s.detail !== null);
  const measured = buildPaperTable(done.map((s) => ({ detail: s.detail!, report: s.report })), { kind: 'last' }, recipe.eval.attacks);
  const header = ['Arm', 'Seed', 'Run', 'Epochs', ...measured.attacks.map((a) => a.label), 'Training time', 'Source'];
  const rows: StudyTableRow[] = done.map((s, i) => {
    const row = measured.rows[i];
    return {
      source: 'measured',
      cells: [
        s.cell.label, String(s.cell.seed), row.runId, String(row.epochs), ...measured.attacks.map((a) => pct(row.cells[a.attack] ?? null)),
        duration(row.trainingSeconds), 'measured here',
      ],
    };
  });
  const paperHas = (attack: string) => PAPER_CIFAR10_ROWS.some((r) => attack in r.accuracy);
  if (measured.attacks.some((a) => paperHas(a.attack))) {
    for (const p of PAPER_CIFAR10_ROWS) {
      const accuracy = p.accuracy as Record<string, number | undefined>;
      rows.push({
        source: 'paper',
        cells: [
          `${p.name}${p.method ? ` (${p.method})` : ''}`, '–', '–', '100', ...measured.attacks.map((a) => accuracy[a.attack]?.toFixed(2) ?? '–'),
          `${p.trainMinutes} min`, 'reported by Chen et al. 2022',
        ],
      });
    }
  }
  const notes = [
    `Accuracy (%) of the last exit on the first ${recipe.eval.samples} test images of '${recipe.dataset}', L∞ ε = ${recipe.eval.eps}/255, ` +
      `attacks aimed at ${recipe.eval.target}, ${recipe.eval.checkpoint} checkpoint; training time is the sum of the epochs' engine time.`,
    'Rows "reported by Chen et al. 2022" are the paper\'s published CIFAR-10 numbers (5-block MSDNet, 100 epochs, evaluated at ε = 8/255, on its GPU), ' +
      'not measured here; they are there to compare with, not to be read as this study\'s results.',
    ...measured.rows.flatMap((r) => [...r.notes.map((n) => `${r.runId}: ${n}`), ...r.warnings.map((w) => `${r.runId}: ⚠ ${w}`)]),
    ...statuses.filter((s) => s.state !== 'evaluated').map((s) => `${s.cell.key}: ${s.state}${s.runId ? ` (run ${s.runId})` : ''}, not in the results yet`),
  ];
  return { header, rows, measured, notes };
}

const escapeCell = (s: string) => s.replace(/\|/g, '\\|');

export function studyTableMarkdown(t: StudyTable): string {
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  const lines = [line(t.header), `|${t.header.map((_, i) => (i === 0 || i === 2 || i === t.header.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of t.rows) lines.push(line(r.source === 'paper' ? r.cells.map((c, i) => (i === 0 ? `*${c}*` : c)) : r.cells));
  return [...lines, '', ...t.notes.map((n) => `- ${n}`)].join('\n') + '\n';
}
