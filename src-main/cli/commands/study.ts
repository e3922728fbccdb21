// `exitlab study run | status | report | list`: a named grid of runs (a recipe: arms × seeds on one
// data set with one budget), trained as a resumable queue, each run evaluated with the study's
// attacks, and a report folder with the paper-style table and the figures.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKENDS } from '../../../src-shared/config';
import { EVAL_ATTACKS, PAPER_ATTACKS } from '../../../src-shared/evaluation';
import { checkStudyRecipe, MAX_STUDY_PARALLEL, StudyParallelSchema, StudyRecipeError, type StudyCell, type StudyRecipe } from '../../../src-shared/study';
import { BUILT_IN_STUDIES, isBuiltInStudy } from '../../../src-shared/study-recipes';
import { availableIds } from '../../datasets/catalog';
import { resolveHome } from '../../home';
import { RunService } from '../../runs/service';
import { EvaluationError } from '../../runs/evaluate-run';
import { runStudy, type StudyProgress } from '../../study/run-study';
import { StudyError, listStudies, readStoredRecipe, studyDirOf } from '../../study/study-folder';
import { writeStudyReport } from '../../study/study-report';
import { studyView } from '../../study/study-view';
import { duration } from '../../engine/eval/paper-table';
import { slurmCellsToShow } from '../../study/slurm/task-states';
import { commandFailure, withCommandStore } from '../command-kit';
import { collectCommand, onSlurm, SLURM_HELP, SLURM_OPTIONS, submitCommand, taskCommand } from '../study-on-slurm';
import { UsageError } from '../errors';
import { ProgressBar } from '../progress';
import { stoppingOnSignals } from '../../stop-on-signals';

export const summary = 'a named grid of runs (methods × λ × seeds) trained as a resumable queue, evaluated, and reported with the paper\'s table and figures';

const HELP = `usage: exitlab study <run|status|collect|report|list|task> [<recipe|name>] [options]

  exitlab study run <recipe> [options]
                          train every run of the grid one at a time (finished runs are skipped, an
                          interrupted one resumes from its checkpoint), evaluate each, write the report
      <recipe>            a built-in recipe (${Object.keys(BUILT_IN_STUDIES).join(', ')}), a recipe JSON file, or the
                          name of a study started before (it continues with its stored recipe)
      --dataset <id>      the data set every run trains on
      --epochs <n>        epochs of every run (the budget)
      --seeds <list>      comma-separated seeds (each arm runs once per seed)
      --name <name>       the study's name (default: the recipe's); its folder is <home>/studies/<name>
      --max-batches <n>   stop each epoch after n batches (smoke studies)
      --train-samples <n> train on the first n training images
      --eval-samples <n>  held-out images evaluated each epoch during training
      --samples <n>       test images the study's attacks evaluate (default 256)
      --attacks <list>    the study's attacks (default the paper's: ${PAPER_ATTACKS.join(',')}; any of ${EVAL_ATTACKS.join(', ')})
      --workers <n>       data-parallel worker threads of every run
      --parallel <n>      train n runs at the same time (default 1), each taking the next run of the
                          grid; runs and evaluations without --workers share the cores out (cores/n
                          each), and a run's evaluation goes on beside the next run's training. On
                          the CPU this beats one run at a time on all cores, whose data-parallel
                          workers wait for each other at every step; on one GPU the runs share it
      --backend <b>       ${BACKENDS.join(' | ')}
      --no-report         do not write the report at the end
      --json              one JSON line per study event (the engine's events are not repeated)
${SLURM_HELP}
  exitlab study status <name> [--json]
                          each run of the grid: pending, training, stopped, failed, trained, evaluated;
                          on Slurm also its task: pending, running, completed, failed, timed-out,
                          cancelled (from squeue/scontrol, sacct where the cluster keeps accounting,
                          else the task's own marker and log)
  exitlab study report <name> [--out <dir>]
                          (re)write the report folder (default <home>/studies/<name>/report): table.md
                          with the paper's reported rows beside the measured ones, report.json, figures
  exitlab study list      the studies in the data folder

  --home <dir>            data folder (default $EXITLAB_HOME or ~/.exitlab)

A recipe (JSON; schema StudyRecipeSchema in src-shared/study.ts):
  { "name": "overfit", "dataset": "cifar10", "preset": null, "train": { "epochs": 10, "eps": 16 },
    "arms": [ { "method": "fgsm", "train": { "model": { "exits": "last" } } },
              { "method": "fgsm-me" }, { "method": "fgsm-me", "lambda": "zero" } ],
    "seeds": [0], "eval": { "attacks": ["clean", "pgd20"], "samples": 500, "eps": 16 } }
An arm's lambda is 'paper' (default for fgsm-me), 'zero' or one value per exit. A bad recipe is
refused before any run starts, with the field named. Ctrl-C stops the run in training on a
checkpoint; \`exitlab study run <name>\` continues the study where it stopped.`;

const OPTIONS = {
  dataset: { type: 'string' }, epochs: { type: 'string' }, seeds: { type: 'string' }, name: { type: 'string' },
  'max-batches': { type: 'string' }, 'train-samples': { type: 'string' }, 'eval-samples': { type: 'string' }, samples: { type: 'string' },
  attacks: { type: 'string' }, workers: { type: 'string' }, parallel: { type: 'string' }, backend: { type: 'string' }, 'no-report': { type: 'boolean' },
  out: { type: 'string' }, home: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
  ...SLURM_OPTIONS,
} as const;
type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\s*\n\s*/g, ' '));
  }
}

function whole(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--${flag} must be a whole number, got '${text}'`);
  return Number(text);
}

/** Command-line values laid over a recipe (they are the budget and the data set, not the grid). */
function withOverrides(recipe: Record<string, unknown>, v: Values): Record<string, unknown> {
  const train: Record<string, unknown> = { ...(recipe.train as object | undefined) };
  const set = (field: string, value: unknown) => {
    if (value !== undefined) train[field] = value;
  };
  set('epochs', whole('epochs', v.epochs));
  set('maxBatchesPerEpoch', whole('max-batches', v['max-batches']));
  set('trainSamples', whole('train-samples', v['train-samples']));
  set('evalSamples', whole('eval-samples', v['eval-samples']));
  set('workers', whole('workers', v.workers));
  set('backend', v.backend);
  const evaluation: Record<string, unknown> = { ...(recipe.eval as object | undefined) };
  if (v.samples !== undefined) evaluation.samples = whole('samples', v.samples);
  if (v.attacks !== undefined) evaluation.attacks = v.attacks.split(',').map((s) => s.trim()).filter(Boolean);
  const seeds = v.seeds?.split(',').map((s) => whole('seeds', s.trim()));
  return { ...recipe, train, eval: evaluation, ...(v.dataset ? { dataset: v.dataset } : {}), ...(v.name ? { name: v.name } : {}), ...(seeds ? { seeds } : {}) };
}

const OVERRIDE_FLAGS = [
  'dataset', 'epochs', 'seeds', 'name', 'max-batches', 'train-samples', 'eval-samples', 'samples', 'attacks', 'workers', 'backend',
] as const;

/** The recipe `study run <arg>` means: a file, a stored study (without overrides), or a built-in. */
function recipeFor(home: string, arg: string, v: Values): { recipe: StudyRecipe; cells: StudyCell[] } {
  const overridden = OVERRIDE_FLAGS.some((f) => v[f] !== undefined);
  let raw: Record<string, unknown>;
  if (arg.endsWith('.json') || fs.existsSync(arg)) {
    try {
      raw = JSON.parse(fs.readFileSync(arg, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`cannot read the recipe ${arg}: ${(err as Error).message}`);
    }
  } else {
    const stored = readStoredRecipe(home, arg);
    if (stored && !overridden) return checked(stored);
    if (isBuiltInStudy(arg)) raw = structuredClone(BUILT_IN_STUDIES[arg]) as Record<string, unknown>;
    else if (stored) raw = stored;
    else throw new UsageError(`'${arg}' is not a recipe file, a built-in recipe (${Object.keys(BUILT_IN_STUDIES).join(', ')}) or a study of this data folder`);
  }
  return checked(withOverrides(raw, v));
}

function checked(input: unknown): { recipe: StudyRecipe; cells: StudyCell[] } {
  try {
    return checkStudyRecipe(input);
  } catch (err) {
    if (err instanceof StudyRecipeError) throw new UsageError(`bad recipe: ${err.message}`);
    throw err;
  }
}

function storedStudy(home: string, name: string | undefined): { recipe: StudyRecipe; cells: StudyCell[] } {
  if (!name) throw new UsageError('name the study (see `exitlab study list`)');
  const recipe = readStoredRecipe(home, name);
  if (!recipe) throw new UsageError(`no study '${name}' in ${home} (studies: ${listStudies(home).join(', ') || 'none'})`);
  return checked(recipe);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

function parallelOf(text: string | undefined): number {
  const parsed = StudyParallelSchema.safeParse(whole('parallel', text));
  if (!parsed.success) throw new UsageError(`--parallel must be from 1 to ${MAX_STUDY_PARALLEL}, got '${text}'`);
  return parsed.data;
}

async function runCommand(home: string, arg: string | undefined, v: Values): Promise<number> {
  if (!arg) throw new UsageError('study run needs a recipe: a built-in name, a JSON file or a study name');
  const slurm = onSlurm(v);
  const { recipe, cells } = recipeFor(home, arg, v);
  const known = availableIds(home);
  if (!known.includes(recipe.dataset)) throw new UsageError(`unknown data set '${recipe.dataset}' (available: ${known.join(', ')})`);
  if (slurm) return submitCommand(home, recipe, cells, v);
  const parallel = parallelOf(v.parallel);
  const service = new RunService({ home });
  // One bar for one run at a time; with lanes, each run's lines carry its key instead.
  const bar = v.json || parallel > 1 ? null : new ProgressBar(process.stderr);
  const laneBars = new Map<string, ProgressBar>();
  const barOf = (cell: StudyCell) => {
    if (bar || v.json) return bar;
    if (!laneBars.has(cell.key)) laneBars.set(cell.key, new ProgressBar(process.stderr, { prefix: `  ${cell.key}: `, bar: false }));
    return laneBars.get(cell.key)!;
  };
  const say = (p: StudyProgress) => {
    if (v.json) {
      return console.log(JSON.stringify({
        type: 'study', index: p.index, total: p.total, key: p.cell.key, runId: p.runId, phase: p.phase, message: p.message ?? null,
      }));
    }
    bar?.clear();
    process.stderr.write(`[${p.index + 1}/${p.total}] ${p.cell.key} (run ${p.runId}): ${p.phase}${p.message ? ` — ${p.message}` : ''}\n`);
  };
  let lastEval = '';
  try {
    process.stderr.write(`study ${recipe.name}: ${cells.length} run(s) on '${recipe.dataset}', ${cells[0].config.epochs} epoch(s) each; ` +
      `folder ${studyDirOf(home, recipe.name)}\n`);
    const queue = runStudy(service, recipe, cells, {
      onCell: say,
      onEngineEvent: (cell, e) => barOf(cell)?.onEvent(e),
      onEvalProgress: (_, p) => {
        const head = p.message.split(':')[0];
        if (!v.json && head !== lastEval) process.stderr.write(`  ${p.fraction === null ? '' : `${Math.round(100 * p.fraction)}% `}${p.message}\n`);
        lastEval = head;
      },
    }, { parallel });
    const result = await stoppingOnSignals(queue.done, () => queue.stop());
    bar?.clear();
    if (!v['no-report']) {
      const written = writeStudyReport(home, service.store, recipe, cells);
      if (v.json) console.log(JSON.stringify({ type: 'report', dir: written.dir, files: written.files }));
      else console.log(`report: ${written.dir}`);
    }
    for (const f of result.failed) console.error(`study ${recipe.name}: ${f.key} (run ${f.runId}) failed: ${f.message}`);
    if (result.stopped) process.stderr.write(`study ${recipe.name} stopped; \`exitlab study run ${recipe.name}\` continues it\n`);
    return result.stopped ? 130 : result.failed.length ? 1 : 0;
  } catch (err) {
    throw commandFailure(err, [StudyError, EvaluationError]);
  } finally {
    await service.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [sub, arg, ...extra] = positionals;
  if (values.help || !sub) {
    console.log(HELP);
    return sub || values.help ? 0 : 2;
  }
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const home = resolveHome(values.home);
  switch (sub) {
    case 'run':
      return runCommand(home, arg, values);
    case 'list':
      for (const name of listStudies(home)) console.log(name);
      return 0;
    case 'status':
      return withCommandStore(home, [StudyError], async (store) => {
        const { recipe, cells } = storedStudy(home, arg);
        const slurm = await slurmCellsToShow(home, store, recipe, cells);
        const rows = studyView(home, store, recipe, cells, slurm).view.cells;
        if (values.json) {
          console.log(JSON.stringify(rows));
          return 0;
        }
        const lines = [['run', 'arm', 'seed', 'state', ...(slurm ? ['slurm', 'job'] : []), 'epochs', 'training', 'run id']];
        for (const c of rows) {
          lines.push([
            c.key, c.label, String(c.seed), c.state, ...(c.slurm ? [c.slurm.state, c.slurm.job ?? '–'] : []), `${c.epochsDone}/${c.epochs}`,
            duration(c.trainingSeconds), c.runId ?? '–',
          ]);
        }
        console.log(`study ${recipe.name} on '${recipe.dataset}': ${rows.filter((c) => c.state === 'evaluated').length} of ${rows.length} run(s) evaluated` +
          `${slurm ? `; on Slurm, shared directory ${slurm.record.sharedDir}` : ''}`);
        console.log(table(lines));
        // Slurm's own word is in the table; a state read from a task's marker or log says why.
        for (const c of rows) if (c.slurm && c.slurm.source !== 'slurm' && c.slurm.state !== 'not-submitted') console.log(`${c.key}: ${c.slurm.detail}`);
        return 0;
      });
    case 'collect':
      return withCommandStore(home, [StudyError], (store) => {
        const { recipe, cells } = storedStudy(home, arg);
        return collectCommand(store, home, recipe, cells, values.json ?? false);
      });
    case 'task':
      return taskCommand(arg, values);
    case 'report':
      return withCommandStore(home, [StudyError], (store) => {
        const { recipe, cells } = storedStudy(home, arg);
        const written = writeStudyReport(home, store, recipe, cells, values.out === undefined ? undefined : path.resolve(values.out));
        console.log(fs.readFileSync(written.files[0], 'utf8').trimEnd());
        console.log(`\nreport: ${written.dir}`);
        return 0;
      });
    default:
      throw new UsageError(`unknown study command '${sub}' (run, status, collect, report, list, task)`);
  }
}
