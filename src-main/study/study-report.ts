// `study report`: the study's report folder, written whole or not at all: the results table
// (Markdown, with the paper's rows labelled), report.json (every number behind it), and the figures.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StudyCell, StudyRecipe } from '../../src-shared/study';
import type { RunStore } from '../store/run-store';
import { tempPathFor } from '../temp-files';
import { rethrowWriteFailure } from '../write-errors';
import { renderStudyHtml } from '../report/html-report';
import { writeFigureFiles } from '../report/render-figure';
import { studyReportDirOf } from './study-folder';
import { studyTableMarkdown, type StudyTable } from './study-table';
import { studyView } from './study-view';

export interface WrittenStudyReport {
  dir: string;
  table: StudyTable;
  files: string[];
}

/** Writes the report into a temporary folder beside `dir` and swaps it in, so a reader never sees half of one. */
function replaceFolder(dir: string, write: (tmp: string) => void): void {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = tempPathFor(dir);
  const old = tempPathFor(`${dir}-old`);
  try {
    fs.mkdirSync(tmp);
    write(tmp);
    if (fs.existsSync(dir)) fs.renameSync(dir, old);
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(dir) && fs.existsSync(old)) fs.renameSync(old, dir);
    rethrowWriteFailure(err, `the study report ${dir}`, dir);
  }
  fs.rmSync(old, { recursive: true, force: true });
}

export function writeStudyReport(
  home: string, store: RunStore, recipe: StudyRecipe, cells: StudyCell[], out = studyReportDirOf(home, recipe.name),
): WrittenStudyReport {
  const { view, statuses, table } = studyView(home, store, recipe, cells);
  const title = `# Study ${recipe.name}\n\n${recipe.description ? `${recipe.description}\n\n` : ''}`;
  const json = {
    study: recipe.name,
    createdAt: new Date().toISOString(),
    recipe,
    runs: view.cells.map((c, i) => ({
      ...c, overfitEpochs: statuses[i].detail?.epochs.filter((e) => e.catastrophicOverfitting.detected).map((e) => e.epoch) ?? [],
    })),
    table: table.measured,
    notes: table.notes,
  };
  const files = ['index.html', 'table.md', 'report.json', ...view.figures.flatMap((f) => [`figures/${f.id}.png`, `figures/${f.id}.svg`])];
  replaceFolder(out, (tmp) => {
    const figures = writeFigureFiles(path.join(tmp, 'figures'), view.figures);
    fs.writeFileSync(path.join(tmp, 'table.md'), title + studyTableMarkdown(table));
    fs.writeFileSync(path.join(tmp, 'report.json'), JSON.stringify(json, null, 2) + '\n');
    fs.writeFileSync(path.join(tmp, 'index.html'), renderStudyHtml({
      name: `Study ${recipe.name}`,
      description: recipe.description || `${cells.length} run(s) on '${recipe.dataset}'`,
      results: view.table,
      runs: view.cells.map((c) => ({ label: `${c.label} · seed ${c.seed}`, status: c.state, epochs: c.epochsDone, trainSeconds: c.trainingSeconds })),
      notes: view.notes,
      figures,
    }));
  });
  return { dir: out, table, files: files.map((f) => path.join(out, f)) };
}
