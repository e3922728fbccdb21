// `exitlab runs …`: the stored runs — list, show, compare, resume, delete, tag, note, rename, and
// run bundles to move a run to another machine. Every subcommand takes --json.
import { parseArgs } from 'node:util';
import type { EngineEvent } from '../../../src-shared/engine-messages';
import type { EvaluationReport } from '../../../src-shared/evaluation';
import { aimedAccuracies, RunFilterSchema, RUN_STATUSES, type RunComparison, type RunDetail, type RunSummary } from '../../../src-shared/runs';
import { describeZodError, MAX_WORKERS, METHODS } from '../../../src-shared/config';
import { resolveHome } from '../../home';
import { BundleError, exportBundle, importBundle } from '../../runs/bundle';
import { runDirOf, storedPath } from '../../runs/paths';
import { RunService } from '../../runs/service';
import { compareRuns } from '../../store/compare';
import { commandFailure, isOneOf } from '../command-kit';
import { UsageError } from '../errors';
import { ProgressBar } from '../progress';
import { stoppingOnSignals } from '../../stop-on-signals';

export const summary = 'stored runs: list, show, compare, resume, delete, tag, note, rename, export-bundle, import-bundle';

const HELP = `usage: exitlab runs <subcommand> [options]

  list [--dataset <id>] [--method <m>] [--status <s>] [--tag <t>] [--limit <n>]
  show <run-id>
  compare <run-id> <run-id> [<run-id> …]     configuration diff, per-exit curves and robustness, time
  resume <run-id> [--workers <n>]            continue a stopped, failed or interrupted run (with
                                             another number of data-parallel workers)
  delete <run-id>                            the run's records and folder (checkpoints)
  tag <run-id> <tag>… [--remove <tag>]…      add (and remove) tags
  note <run-id> <text>                       set the run's note ('' clears it)
  rename <run-id> <name>
  export-bundle <run-id> --out <file>        one file with the run's records and checkpoints
  import-bundle <file>

common options:
  --home <dir>   data folder (default $EXITLAB_HOME or ~/.exitlab)
  --json         machine-readable output (JSON; resume prints one event per line, then a summary)`;

const OPTIONS = {
  home: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
  dataset: { type: 'string' }, method: { type: 'string' }, status: { type: 'string' }, tag: { type: 'string' }, limit: { type: 'string' },
  remove: { type: 'string', multiple: true }, out: { type: 'string' }, workers: { type: 'string' },
} as const;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

function parse(argv: string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
    return { values: values as Values, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function workersOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new UsageError(`--workers must be a whole number from 1 to ${MAX_WORKERS}, got '${raw}'`);
  return n;
}

/** null: the attack did not aim there (see aimedAccuracies). */
const pct = (v: number | null | undefined) => (v === undefined || v === null ? '     –' : `${(100 * v).toFixed(1)}%`.padStart(6));
const secs = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

function printList(runs: RunSummary[]): void {
  if (!runs.length) return console.log('no runs');
  const rows = [['id', 'name', 'status', 'method', 'dataset', 'epochs', 'clean', 'PGD-10', 'time', 'tags']];
  for (const r of runs) {
    const last = r.lastEpoch;
    rows.push([
      r.id, r.name, r.status, r.method, r.dataset, `${r.epochsDone}/${r.epochs}`,
      pct(last?.valCleanAcc[last.valCleanAcc.length - 1]), pct(last?.valPgdAcc[last.valPgdAcc.length - 1]), secs(r.seconds), r.tags.join(','),
    ]);
  }
  console.log(table(rows));
  console.log('(clean / PGD-10: held-out accuracy of the last exit at the last epoch)');
}

/** Each evaluation row's attack in the report written with it (same transaction: same time as the report's artefact). */
type Reports = Array<{ file: string; report: EvaluationReport }>;

function reportedAttacks(home: string, d: RunDetail, reports: Reports): Map<number, { report: EvaluationReport; attack: EvaluationReport['attacks'][number] }> {
  const runDir = runDirOf(home, d.summary.id);
  const out = new Map<number, { report: EvaluationReport; attack: EvaluationReport['attacks'][number] }>();
  for (const e of d.evaluations) {
    const artefact = d.artefacts.find((a) => a.kind === 'evaluation-report' && a.createdAt === e.createdAt);
    const report = artefact && reports.find((r) => storedPath(runDir, r.file) === artefact.path)?.report;
    const attack = report?.attacks.find((a) => a.attack === e.attack);
    if (report && attack) out.set(e.id, { report, attack });
  }
  return out;
}

/**
 * One evaluation from its report: the checkpoint and its epoch, the target, '–' for exits and an
 * early-exit model the attack did not aim at, and budgets the model cannot keep marked infeasible.
 */
function describeReported(id: number, report: EvaluationReport, a: EvaluationReport['attacks'][number]): string {
  const exits = a.perExit.map((v, e) => `${a.aimedAt.length && a.aimedAt[e] === null ? '–' : pct(v).trim()}`).join(' ');
  const early = a.earlyExit.map((p) => `@${p.fraction} ${p.feasible === false ? 'infeasible' : p.aimed === false ? '–' : pct(p.accuracy).trim()}`).join(' ');
  const aim = a.attack === 'clean' ? '' : `, aimed at ${report.target}`;
  return `evaluation #${id}: ${a.label} ε ${a.eps}/255, ${a.samples} images, ${report.checkpoint} checkpoint (epoch ${report.epoch})${aim}: ${exits}` +
    `${early ? `; early exit ${early}` : ''}`;
}

function printDetail(d: RunDetail, home: string, reports: Reports): void {
  const s = d.summary;
  console.log(`run ${s.id}${s.name ? ` "${s.name}"` : ''}: ${s.status}${s.failure ? ` (${s.failure.kind}: ${s.failure.message})` : ''}`);
  console.log(`  method ${s.method} on ${s.dataset}, ${s.model}`);
  console.log(`  seed ${s.seed}, backend ${s.backendUsed ?? s.backend}, code ${s.codeVersion}`);
  console.log(`  created ${s.createdAt}${s.startedAt ? `, started ${s.startedAt}` : ''}${s.finishedAt ? `, ended ${s.finishedAt}` : ''}`);
  console.log(`  ${s.epochsDone}/${s.epochs} epochs in ${secs(s.seconds)}; ε ${d.config.eps}/255${d.config.lambda ? `, λ ${d.config.lambda.join(',')}` : ''}`);
  if (s.tags.length) console.log(`  tags: ${s.tags.join(', ')}`);
  if (d.notes) console.log(`  note: ${d.notes}`);
  if (d.epochs.length) {
    console.log('\nepoch  lr        img/s   per exit: clean / FGSM / PGD-10 (held-out)');
    for (const e of d.epochs) {
      const exits = e.exits.map((x) => `${pct(x.valCleanAcc).trim()}/${pct(x.valFgsmAcc).trim()}/${pct(x.valPgdAcc).trim()}`).join('  ');
      console.log(`${String(e.epoch).padStart(5)}  ${e.lr.toPrecision(3).padEnd(8)}  ${e.imagesPerSecond.toFixed(1).padStart(6)}  ${exits}` +
        `${e.catastrophicOverfitting.detected ? '  ⚠ overfitting' : ''}`);
    }
  }
  const reported = reportedAttacks(home, d, reports);
  if (reported.size) console.log("(–: the evaluation's attacks did not aim at that exit or at the early-exit model)");
  for (const e of d.evaluations) {
    const r = reported.get(e.id);
    if (r) console.log(describeReported(e.id, r.report, r.attack));
    else {
      const shown = aimedAccuracies(e);
      const early = e.earlyExit ? `; early exit ${pct(shown.earlyExit).trim()}` : '';
      console.log(`evaluation #${e.id}: ${e.attack} ε ${e.eps}/255, ${e.steps} steps, ${e.samples} images (${e.checkpoint}): ` +
        `${shown.perExit.map((a) => pct(a).trim()).join(' ')}${early}`);
    }
  }
  for (const c of d.checkpoints) console.log(`checkpoint ${c.kind}: epoch ${c.epoch} (${c.path})`);
  for (const a of d.artefacts) console.log(`artefact ${a.kind}: ${a.path}`);
}

function printComparison(c: RunComparison): void {
  const ids = c.runs.map((r) => r.id);
  console.log('configuration differences:');
  if (!c.configDiff.length) console.log('  none');
  else console.log(table([['field', ...ids], ...c.configDiff.map((d) => [d.path, ...d.values.map((v) => JSON.stringify(v) ?? 'null')])]).replace(/^/gm, '  '));
  console.log('\nrobustness per exit (accuracy):');
  const rows = [['run', 'attack', 'ε', 'steps', 'source', 'per exit']];
  for (const r of c.robustness) rows.push([r.runId, r.attack, String(r.eps), String(r.steps), r.source, r.perExitAcc.map((a) => pct(a).trim()).join(' ')]);
  console.log(table(rows).replace(/^/gm, '  '));
  console.log('\ntime:');
  console.log(table([['run', 'status', 'epochs', 'total', 'per epoch', 'img/s'], ...c.timing.map((t) => [
    t.runId, c.runs.find((r) => r.id === t.runId)!.status, String(t.epochs), secs(t.seconds), t.secondsPerEpoch === null ? '-' : secs(t.secondsPerEpoch),
    t.imagesPerSecond === null ? '-' : t.imagesPerSecond.toFixed(1),
  ])]).replace(/^/gm, '  '));
  console.log(`\nper-exit curves over epochs ${c.epochs[0] ?? '-'}…${c.epochs[c.epochs.length - 1] ?? '-'}: use --json (curves[].exits[].metrics)`);
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected one ${what}, got ${positionals.length ? positionals.join(' ') : 'none'}`);
  return positionals[0];
}

async function resume(service: RunService, runId: string, json: boolean, workers: number | undefined): Promise<number> {
  // Loaded here: the summary shape is train's, and its module pulls in the engine (tfjs).
  const { summaryOf } = await import('./train');
  const bar = json ? null : new ProgressBar(process.stderr);
  const onEvent = (event: EngineEvent) => (json ? console.log(JSON.stringify(event)) : bar!.onEvent(event));
  const run = service.resume(runId, { onEvent, workers });
  const outcome = await stoppingOnSignals(run.done, () => run.send({ type: 'stop' }));
  const s = summaryOf(outcome);
  if (json) console.log(JSON.stringify(s));
  else {
    bar!.clear();
    if (outcome.final.type === 'failed') console.error(`exitlab runs: run ${runId} failed (${outcome.final.kind}): ${outcome.final.message}`);
    else console.log(`run ${runId} ${outcome.final.status} after ${outcome.final.epochs} epoch(s) in ${secs(outcome.final.seconds)}`);
  }
  return outcome.final.type === 'failed' ? 1 : outcome.final.status === 'stopped' ? 130 : 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(HELP);
    return sub ? 0 : 2;
  }
  const { values, positionals } = parse(rest);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const json = values.json ?? false;
  const out = (value: unknown, text: () => void) => (json ? console.log(JSON.stringify(value)) : text());
  const known = ['list', 'show', 'compare', 'resume', 'delete', 'tag', 'note', 'rename', 'export-bundle', 'import-bundle'];
  if (!known.includes(sub)) throw new UsageError(`unknown subcommand '${sub}' (subcommands: ${known.join(', ')})`);

  let service: RunService;
  try {
    service = new RunService({ home: resolveHome(values.home) });
  } catch (err) {
    throw commandFailure(err);
  }
  try {
    switch (sub) {
      case 'list': {
        if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
        if (values.status && !isOneOf(RUN_STATUSES, values.status)) throw new UsageError(`--status must be one of ${RUN_STATUSES.join(', ')}`);
        if (values.method && !isOneOf(METHODS, values.method)) throw new UsageError(`--method must be one of ${METHODS.join(', ')}`);
        const filter = RunFilterSchema.safeParse({
          dataset: values.dataset, method: values.method, status: values.status, tag: values.tag,
          limit: values.limit === undefined ? undefined : Number(values.limit),
        });
        if (!filter.success) throw new UsageError(describeZodError(filter.error));
        const runs = service.store.listRuns(filter.data);
        out(runs, () => printList(runs));
        return 0;
      }
      case 'show': {
        const detail = service.store.getRun(one(positionals, 'run id'));
        // Loaded here: the module pulls in the engine (tfjs), which listing runs does not need.
        const { listReports } = await import('../../runs/eval-record');
        out(detail, () => printDetail(detail, service.home, listReports(service.home, detail.summary.id)));
        return 0;
      }
      case 'compare': {
        if (positionals.length < 2) throw new UsageError('compare needs at least two run ids');
        if (new Set(positionals).size !== positionals.length) throw new UsageError('a run is listed twice');
        const comparison = compareRuns(service.store.getRuns(positionals));
        out(comparison, () => printComparison(comparison));
        return 0;
      }
      case 'resume':
        return await resume(service, one(positionals, 'run id'), json, workersOption(values.workers));
      case 'delete': {
        const id = one(positionals, 'run id');
        service.delete(id);
        out({ deleted: id }, () => console.log(`deleted run ${id}`));
        return 0;
      }
      case 'tag': {
        const [id, ...tags] = positionals;
        if (!id || (!tags.length && !values.remove?.length)) throw new UsageError('usage: exitlab runs tag <run-id> <tag>… [--remove <tag>]…');
        const now = service.store.tag(id, tags, values.remove ?? []);
        out({ runId: id, tags: now }, () => console.log(`run ${id} tags: ${now.join(', ') || '(none)'}`));
        return 0;
      }
      case 'note':
      case 'rename': {
        if (positionals.length !== 2) throw new UsageError(`usage: exitlab runs ${sub} <run-id> <${sub === 'note' ? 'text' : 'name'}>`);
        const [id, text] = positionals;
        if (sub === 'note') service.store.setNote(id, text);
        else service.store.rename(id, text);
        out({ runId: id, [sub === 'note' ? 'notes' : 'name']: text }, () => console.log(`run ${id} ${sub === 'note' ? 'note' : 'name'} set`));
        return 0;
      }
      case 'export-bundle': {
        const id = one(positionals, 'run id');
        if (!values.out) throw new UsageError('export-bundle needs --out <file>');
        const result = exportBundle(service.home, service.store, id, values.out);
        out({ runId: id, ...result }, () => console.log(`wrote run ${id} to ${result.file} (${result.files} file(s), ${(result.bytes / 1e6).toFixed(1)} MB)`));
        return 0;
      }
      case 'import-bundle': {
        const result = importBundle(service.home, service.store, one(positionals, 'bundle file'));
        out(result, () => console.log(`imported run ${result.runId} (${result.files} file(s))`));
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand '${sub}'`);
    }
  } catch (err) {
    throw commandFailure(err, [BundleError]);
  } finally {
    await service.close();
  }
}
