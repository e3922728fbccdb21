// `exitlab eval`: robustness of a stored run, exit by exit and as an early-exit model, under a list
// of attacks; writes an evaluation report into the run's folder and records it in the store.
import { BACKENDS } from '../../../src-shared/config';
import { DEFAULT_CHECKPOINT, type CheckpointKind } from '../../../src-shared/runs';
import { AA_STANDARD_SETTINGS, DEFAULT_EVAL_ATTACKS, DEFAULT_SWEEP, EVAL_ATTACKS, PAPER_ATTACKS, type EvaluationReport } from '../../../src-shared/evaluation';
import { attackNamed } from '../../engine/eval/attack-specs';
import { BackendUnavailableError } from '../../engine/backends/select';
import { resolveHome } from '../../home';
import { EvaluationError, evaluateRun } from '../../runs/evaluate-run';
import { NotEnoughMemoryError } from '../../engine/parallel/memory';
import { parseOptions, withCommandStore } from '../command-kit';
import { UsageError } from '../errors';

export const summary = 'robustness of a trained run per exit and as an early-exit model (clean, FGSM, PGD, BIM, MIM, CW, AutoAttack)';

const HELP = `usage: exitlab eval --run <id> [options]

  --run <id>              the run to evaluate (see \`exitlab runs list\`)
  --attacks <list>        comma-separated names (default ${DEFAULT_EVAL_ATTACKS.join(',')}; the paper's: ${PAPER_ATTACKS.join(',')}):
${EVAL_ATTACKS.map((a) => `                            ${a.padEnd(8)} ${attackNamed(a).label}`).join('\n')}
  --samples <n>           attack the first n test images (default 256)
  --eps <e>               L∞ radius in /255 (default: the run's training ε, else 8)
  --target <t>            exits the attacks' losses look at: average | max-average | exit:N (default max-average);
                          with exit:N the other exits are not attacked: their columns show '–'
  --checkpoint <c>        last | best (default ${DEFAULT_CHECKPOINT}, as \`exitlab export\`); the output names it and its epoch
  --budgets <list>        early-exit budgets as fractions of the full network's cost (default 0.25,0.5,0.75,1; 'none': skip)
  --calibration <n>       early-exit thresholds are calibrated on the LAST n test images (default 500),
                          never among the attacked ones
  --sweep                 gradient-masking check: also run PGD-20 at ε ${DEFAULT_SWEEP.join(', ')} /255 (robust accuracy
                          should fall towards 0 as ε grows, and never rise)
  --sweep-eps <list>      the sweep's radii instead (/255, comma-separated; implies --sweep)
  --restarts <n>          restarts of PGD and CW (default 1; BIM and MIM start from the clean point, once)
  --aa-steps <n>          AutoAttack: APGD/FAB iterations (standard ${AA_STANDARD_SETTINGS.steps})
  --aa-targets <n>        AutoAttack: target classes of APGD-T and FAB-T (standard ${AA_STANDARD_SETTINGS.targetClasses})
  --aa-queries <n>        AutoAttack: Square's query budget (standard ${AA_STANDARD_SETTINGS.squareQueries})
  --batch-size <n>        images attacked at once (default 64)
  --backend <b>           ${BACKENDS.join(' | ')} (default auto)
  --workers <n>           worker threads, each attacking whole batches of the images (default: one per core,
                          at most one per batch; 1: in this process); results are the same for any number
  --seed <n>              seed of the attacks' random starts (default 0)
  --home <dir>            data folder (default $EXITLAB_HOME or ~/.exitlab)
  --json                  print the report as JSON (progress still goes to stderr)

Reduced AutoAttack settings are named in the attack's label ("AutoAttack (reduced: …)"). The report
keeps, per attack, exit and budget, which images resisted (robustImages), for image-by-image comparison.`;

const OPTIONS = {
  run: { type: 'string' }, attacks: { type: 'string' }, samples: { type: 'string' }, eps: { type: 'string' }, target: { type: 'string' },
  checkpoint: { type: 'string' }, budgets: { type: 'string' }, calibration: { type: 'string' }, sweep: { type: 'boolean' }, 'sweep-eps': { type: 'string' },
  restarts: { type: 'string' }, 'aa-steps': { type: 'string' }, 'aa-targets': { type: 'string' }, 'aa-queries': { type: 'string' },
  'batch-size': { type: 'string' }, backend: { type: 'string' }, workers: { type: 'string' }, seed: { type: 'string' }, home: { type: 'string' },
  json: { type: 'boolean' }, help: { type: 'boolean' },
} as const;

function whole(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got '${text}'`);
  return v;
}

function numbers(name: string, text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  const out = parts.map(Number);
  if (!parts.length || out.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new UsageError(`--${name} must be a comma-separated list of positive numbers, got '${text}'`);
  }
  return out;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}

/** A cell of the per-exit table: '–' where the attack did not aim at the classifier, 'infeasible' for an unkeepable budget. */
function cellText(accuracy: number, aimed: boolean, feasible = true): string {
  if (!feasible) return 'infeasible';
  return aimed ? pct(accuracy) : '–';
}

export function printReport(r: EvaluationReport, file: string): void {
  console.log(`run ${r.runId} (${r.method} on ${r.dataset}), ${r.checkpoint} checkpoint (epoch ${r.epoch}), ` +
    `backend ${r.backend}${r.workers > 1 ? ` on ${r.workers} worker threads` : ''}`);
  console.log(`${r.samples} test images (the first ${r.samples}), L∞ ε ${r.eps}/255, attack target ${r.target}, seed ${r.seed}`);
  const exits = r.exits.length;
  const header = ['attack', ...Array.from({ length: exits }, (_, k) => `exit ${k + 1}`), ...r.budgets.map((b) => `early@${b.fraction}`), 'time'];
  const rows = [header];
  let skipped = false;
  for (const a of r.attacks) {
    const aimed = a.perExit.map((_, e) => a.aimedAt[e] !== null);
    skipped ||= aimed.includes(false) || a.earlyExit.some((p) => !p.aimed);
    rows.push([
      a.label, ...a.perExit.map((v, e) => cellText(v, aimed[e])), ...a.earlyExit.map((p) => cellText(p.accuracy, p.aimed, p.feasible)),
      `${a.seconds.toFixed(1)} s`,
    ]);
  }
  console.log(table(rows));
  if (skipped) {
    console.log(`–: not attacked (the attacks aimed at ${r.target} only); ` +
      `the report's perExit there is what those points did to the other classifiers, not an attack on them`);
  }
  if (r.budgets.length) {
    console.log(`early exit: thresholds calibrated on the last ${r.calibrationSamples} test images (clean); ` +
      `budgets as fractions of the last exit's ${(r.exits[exits - 1].macs / 1e6).toFixed(2)} M MACs:`);
    for (const b of r.budgets) {
      const clean = r.attacks.find((a) => a.attack === 'clean')?.earlyExit.find((p) => p.fraction === b.fraction);
      if (!b.feasible) {
        console.log(`  ${b.fraction}: infeasible: even exit 1 costs ${(r.exits[0].macs / 1e6).toFixed(2)} M MACs, ` +
          `more than the budget of ${(b.budgetMacs / 1e6).toFixed(2)} M`);
        continue;
      }
      console.log(`  ${b.fraction}: threshold ${b.threshold >= 1 ? 'none (last exit)' : b.threshold.toFixed(3)}, ` +
        `${clean ? `${(clean.macs / 1e6).toFixed(2)} M MACs per image on the evaluated images` : ''}`);
    }
  }
  for (const a of r.attacks) {
    if (a.gains) {
      console.log(`${a.label}: images newly fooled per component (exit 1…${exits}): ` +
        `${Object.entries(a.gains).map(([c, g]) => `${c} ${g.slice(0, exits).join('/')}`).join(', ')}`);
    }
  }
  if (r.sweep) {
    console.log(`ε sweep (${r.sweep.attack}): ${r.sweep.points.map((p) => `ε ${p.eps}: ${p.perExit.map(pct).join('/')}`).join('; ')}`);
  }
  for (const w of r.warnings) console.log(`warning: ${w}`);
  console.log(`report: ${file} (${r.seconds.toFixed(1)} s)`);
}

export async function run(argv: string[]): Promise<number> {
  const values = parseOptions(argv, OPTIONS, HELP);
  if (!values) return 0;
  const runId = values.run;
  if (!runId) throw new UsageError('--run <id> is required');
  const attacks = (values.attacks ?? DEFAULT_EVAL_ATTACKS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = attacks.filter((a) => !EVAL_ATTACKS.includes(a as never));
  if (unknown.length || !attacks.length) {
    throw new UsageError(`unknown attack${unknown.length > 1 ? 's' : ''} '${unknown.join("', '")}' (attacks: ${EVAL_ATTACKS.join(', ')})`);
  }
  if (new Set(attacks).size !== attacks.length) throw new UsageError('--attacks lists an attack twice');
  const samples = whole('samples', values.samples, 1) ?? 256;
  let eps: number | undefined;
  if (values.eps !== undefined) {
    eps = Number(values.eps);
    if (!Number.isFinite(eps) || eps <= 0 || eps > 255) throw new UsageError(`--eps must be a number in (0, 255] (in /255), got '${values.eps}'`);
  }
  if (values.checkpoint !== undefined && !['best', 'last'].includes(values.checkpoint)) {
    throw new UsageError(`--checkpoint must be best or last, got '${values.checkpoint}'`);
  }
  const budgets = values.budgets === undefined ? undefined : values.budgets === 'none' ? [] : numbers('budgets', values.budgets);
  const sweep = values['sweep-eps'] !== undefined ? numbers('sweep-eps', values['sweep-eps']) : values.sweep ? DEFAULT_SWEEP : [];

  const home = resolveHome(values.home);
  const progress = process.stderr.isTTY && !values.json;
  let last = '';
  return withCommandStore(home, [EvaluationError, BackendUnavailableError, NotEnoughMemoryError], async (store) => {
    // The run's own ε is the natural default: its robustness at the radius it was trained for.
    eps ??= store.getRun(runId).config.eps || 8;
    const result = await evaluateRun(home, store, {
      runId, attacks: attacks as never, samples, eps, target: values.target, checkpoint: values.checkpoint as CheckpointKind | undefined,
      budgets, calibrationSamples: whole('calibration', values.calibration, 0), sweep, backend: values.backend as never, seed: whole('seed', values.seed, 0),
      batchSize: whole('batch-size', values['batch-size'], 1), workers: whole('workers', values.workers, 1),
      settings: {
        restarts: whole('restarts', values.restarts, 1), aaSteps: whole('aa-steps', values['aa-steps'], 1),
        aaTargetClasses: whole('aa-targets', values['aa-targets'], 1), aaSquareQueries: whole('aa-queries', values['aa-queries'], 1),
      },
    }, (p) => {
      const line = `${p.fraction === null ? '' : `${Math.round(100 * p.fraction)}% `}${p.message}`;
      if (progress) process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 100) - 1).padEnd((process.stderr.columns ?? 100) - 1)}`);
      else if (p.message.split(':')[0] !== last) process.stderr.write(`${line}\n`);
      last = p.message.split(':')[0];
    });
    if (progress) process.stderr.write('\r' + ' '.repeat((process.stderr.columns ?? 100) - 1) + '\r');
    if (values.json) console.log(JSON.stringify({ file: result.file, report: result.report }));
    else printReport(result.report, result.file);
    return 0;
  });
}
