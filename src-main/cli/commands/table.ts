// `exitlab table`: the paper-style comparison (methods × attacks, plus training time) of a set of
// runs, from each run's latest evaluation report, as Markdown or JSON.
import { PAPER_ATTACKS } from '../../../src-shared/evaluation';
import { resolveHome } from '../../home';
import { attackNamed } from '../../engine/eval/attack-specs';
import { buildPaperTable, paperTableMarkdown, parseView } from '../../engine/eval/paper-table';
import { listReports } from '../../runs/eval-record';
import { listStudies, readStoredRecipe, readStudyState } from '../../study/study-folder';
import { parseOptions, withCommandStore } from '../command-kit';
import { UsageError } from '../errors';

export const summary = 'paper-style table of runs × attacks with training time, from their latest evaluations (Markdown or JSON)';

const HELP = `usage: exitlab table --runs <id,id,...> | --study <name> [options]

  --runs <ids>            comma-separated run ids (see \`exitlab runs list\`); evaluate them first with \`exitlab eval\`
  --study <name>          the runs of a study (\`exitlab study list\`) that are in this data folder
  --view <v>              which accuracy a cell shows: last (the last exit; default) | exit:N | early:F
                          (the early-exit model at budget F of the full cost, e.g. early:0.5)
  --paper                 the paper's columns (Chen et al. 2022): ${PAPER_ATTACKS.map((a) => attackNamed(a).label).join(', ')},
                          shown even where a run's report lacks them (evaluate with
                          \`exitlab eval --attacks ${PAPER_ATTACKS.join(',')}\`)
  --format <f>            md (Markdown; default) | json
  --home <dir>            data folder (default $EXITLAB_HOME or ~/.exitlab)

A cell is empty (–) where the report has no answer for the view: its attacks aimed at another exit
(\`exitlab eval --target exit:N\`), or the budget is infeasible. The notes under the table say which,
and name each run's checkpoint (and its epoch) and attack target.`;

const OPTIONS = {
  runs: { type: 'string' }, study: { type: 'string' }, view: { type: 'string' }, paper: { type: 'boolean' }, format: { type: 'string' },
  home: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
} as const;

/** The run ids a study's state records, in grid order (some may not be in the store yet). */
function studyRunIds(home: string, name: string): string[] {
  if (!readStoredRecipe(home, name)) throw new UsageError(`no study '${name}' in ${home} (studies: ${listStudies(home).join(', ') || 'none'})`);
  return Object.values(readStudyState(home, name).runs);
}

export async function run(argv: string[]): Promise<number> {
  const values = parseOptions(argv, OPTIONS, HELP);
  if (!values) return 0;
  const home = resolveHome(values.home);
  if (values.runs !== undefined && values.study !== undefined) throw new UsageError('give --runs or --study, not both');
  const ids = values.study !== undefined ? studyRunIds(home, values.study) : (values.runs ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!ids.length) {
    throw new UsageError(
      values.study !== undefined ? `study '${values.study}' has no run in this data folder yet` : '--runs <id,id,...> or --study <name> is required',
    );
  }
  const format = values.json ? 'json' : (values.format ?? 'md');
  if (format !== 'md' && format !== 'json') throw new UsageError(`--format must be md or json, got '${format}'`);
  let view;
  try {
    view = parseView(values.view ?? 'last');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return withCommandStore(home, [], (store) => {
    const details = store.getRuns([...new Set(ids)].filter((id) => values.study === undefined || store.hasRun(id)));
    if (view.kind === 'exit') {
      const short = details.find((d) => d.modelSummary && d.modelSummary.exits < (view as { exit: number }).exit);
      if (short) throw new UsageError(`--view exit:${view.exit}: run ${short.summary.id} has only ${short.modelSummary!.exits} exits`);
    }
    const table = buildPaperTable(
      details.map((detail) => ({ detail, report: listReports(home, detail.summary.id).at(-1)?.report ?? null })), view,
      values.paper ? PAPER_ATTACKS : undefined,
    );
    console.log(format === 'json' ? JSON.stringify(table) : paperTableMarkdown(table).trimEnd());
    return 0;
  });
}
