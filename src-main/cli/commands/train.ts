// `exitlab train`: validate the options, start the engine process, show progress, end with per-exit
// metrics. With --json every engine event is one JSON line and the last line is the summary.
import { parseArgs } from 'node:util';
import { BACKENDS, MIN_SHARD_IMAGES, TrainConfigSchema, describeZodError, type TrainConfig, type TrainConfigInput } from '../../../src-shared/config';
import { describePreset, PRESET_IDS, withPreset, type PresetId } from '../../../src-shared/presets';
import type { EngineEvent, ModelSummary } from '../../../src-shared/engine-messages';
import type { EpochMetrics } from '../../../src-shared/metrics';
import { resolveTrainConfig, ConfigError } from '../../engine/train/resolve-config';
import { resolveHome } from '../../home';
import { UsageError } from '../errors';
import { availableIds } from '../../datasets/catalog';
import type { RunOutcome } from '../../engine/process/run-engine';
import { RunService } from '../../runs/service';
import { ProgressBar } from '../progress';
import { stoppingOnSignals } from '../../stop-on-signals';

export const summary = 'train a multi-exit network (default: the paper\'s fgsm-me on the synthetic set)';

const HELP = `usage: exitlab train [options]

  --preset <name>         start from a named setup (${PRESET_IDS.join(' | ')}); any option below overrides
                          its value (its λ applies to fgsm-me only):
${PRESET_IDS.flatMap((id) => describePreset(id)).map((line) => `                            ${line}`).join('\n')}
  --dataset <id>          data set id (default synthetic; see \`exitlab datasets list\`)
  --method <name>         (default fgsm-me)
                            fgsm-me   the paper's: FGSM on all exits + λ·‖W_fc‖² penalty
                            fgsm      single-exit FGSM adversarial training
                            standard  clean training
                            pgd-at    PGD-k adversarial training (Madry et al.)
                            fgsm-rs   FGSM with random start + early stopping (Wong et al.)
                            free      Free-m, minibatch replays (Shafahi et al.)
                            trades    TRADES, CE + β·KL (Zhang et al.)
                            gradalign fgsm-rs's step + λ_ga·(1 − cos of the input gradients at x and
                                      x + η) (GradAlign, Andriushchenko & Flammarion)
  --epochs <n>            epochs (default 2; for free: epoch-equivalents, ⌈n/m⌉ passes are made)
  --eps <v>               L∞ radius in /255 (default 8)
  --alpha <v>             attack step in /255 (default: the method's: fgsm-me, fgsm, free ε;
                          fgsm-rs, gradalign 1.25ε; pgd-at, trades 2)
  --pgd-steps <k>         PGD steps of pgd-at and trades (default 10)
  --beta <v>              TRADES β (default 6)
  --replays <m>           Free-m replays per minibatch (default 8)
  --grad-align-lambda <v> GradAlign's λ_ga (default 0.2, the authors' value at ε = 8/255)
  --early-stop, --no-early-stop
                          end the run when catastrophic overfitting is flagged, keeping the best
                          checkpoint (default: on for fgsm-rs, off otherwise)
  --lambda <l1,l2,…>      λ per exit for the FC-weight penalty (default for fgsm-me: the paper's)
  --lambda-warmup <n>     epochs over which λ ramps up (default 0)
  --batch-size <n>        (default 64)
  --lr <v>                peak learning rate (default 0.1)
  --lr-schedule <kind>    piecewise | cyclic (default piecewise)
  --momentum <v>          (default 0.9)
  --weight-decay <v>      (default 5e-4)
  --eval-samples <n>      held-out images evaluated each epoch (default 200)
  --train-samples <n>     use only the first n training images
  --max-batches <n>       stop each epoch after n batches (smoke runs)
  --blocks, --step, --base, --channels, --growth-rate, --scales, --classifier-channels
                          MSDNet shape (reference CIFAR defaults)
  --exits <all|last>      train every exit (default) or a single-exit network
  --no-augment            no random crop / flip
  --backend <name>        ${BACKENDS.join(' | ')} (default auto)
  --workers <n>           data-parallel worker threads, each training on a shard of every batch
                          (default: one per core, at most one per ${MIN_SHARD_IMAGES} images of a batch);
                          batch norm then uses each shard's statistics
  --seed <n>              (default 0)
  --home <dir>            data folder (default $EXITLAB_HOME or ~/.exitlab)
  --json                  one JSON event per line, the last a summary`;

const OPTIONS = {
  preset: { type: 'string' }, dataset: { type: 'string' }, method: { type: 'string' }, epochs: { type: 'string' }, eps: { type: 'string' },
  alpha: { type: 'string' }, lambda: { type: 'string' }, 'lambda-warmup': { type: 'string' }, 'batch-size': { type: 'string' },
  lr: { type: 'string' }, 'lr-schedule': { type: 'string' }, momentum: { type: 'string' }, 'weight-decay': { type: 'string' },
  'eval-samples': { type: 'string' }, 'train-samples': { type: 'string' }, 'max-batches': { type: 'string' },
  blocks: { type: 'string' }, step: { type: 'string' }, base: { type: 'string' }, channels: { type: 'string' },
  'growth-rate': { type: 'string' }, scales: { type: 'string' }, 'no-augment': { type: 'boolean' },
  'pgd-steps': { type: 'string' }, beta: { type: 'string' }, replays: { type: 'string' }, 'grad-align-lambda': { type: 'string' },
  'early-stop': { type: 'boolean' }, 'no-early-stop': { type: 'boolean' }, 'classifier-channels': { type: 'string' }, exits: { type: 'string' },
  backend: { type: 'string' }, workers: { type: 'string' }, seed: { type: 'string' }, home: { type: 'string' }, json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function number(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${name} must be a number, got '${raw}'`);
  return v;
}

/** Builds and validates the run configuration from the command line; throws UsageError on any problem. */
export function configFromArgs(argv: string[]): { config: TrainConfig; json: boolean; home: string; help: boolean } {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    // node:util spreads some of its messages (a value starting with '-') over several lines.
    throw new UsageError((err as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const lambda = values.lambda?.split(',').map((s, i) => {
    const v = Number(s);
    if (s.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--lambda value ${i + 1} ('${s}') is not a number`);
    return v;
  });
  const model = Object.fromEntries(Object.entries({
    blocks: number('blocks', values.blocks), step: number('step', values.step), base: number('base', values.base),
    channels: number('channels', values.channels), growthRate: number('growth-rate', values['growth-rate']), scales: number('scales', values.scales),
    classifierChannels: number('classifier-channels', values['classifier-channels']), exits: values.exits,
  }).filter(([, v]) => v !== undefined));
  const lrMax = number('lr', values.lr) ?? 0.1;
  const lrGiven = values.lr !== undefined || values['lr-schedule'] !== undefined;
  const input: TrainConfigInput = {
    dataset: values.dataset,
    method: values.method as TrainConfigInput['method'],
    epochs: number('epochs', values.epochs),
    eps: number('eps', values.eps),
    alpha: number('alpha', values.alpha),
    lambda,
    lambdaWarmupEpochs: number('lambda-warmup', values['lambda-warmup']),
    batchSize: number('batch-size', values['batch-size']),
    // An unknown --lr-schedule is refused below, before this is used.
    lr: lrGiven ? { kind: values['lr-schedule'] === 'cyclic' ? 'cyclic' : 'piecewise', max: lrMax } : undefined,
    momentum: number('momentum', values.momentum),
    weightDecay: number('weight-decay', values['weight-decay']),
    evalSamples: number('eval-samples', values['eval-samples']),
    trainSamples: number('train-samples', values['train-samples']),
    maxBatchesPerEpoch: number('max-batches', values['max-batches']),
    augment: values['no-augment'] ? false : undefined,
    pgdSteps: number('pgd-steps', values['pgd-steps']),
    tradesBeta: number('beta', values.beta),
    freeReplays: number('replays', values.replays),
    gradAlignLambda: number('grad-align-lambda', values['grad-align-lambda']),
    earlyStop: values['early-stop'] ? true : values['no-early-stop'] ? false : undefined,
    backend: values.backend as TrainConfigInput['backend'],
    workers: number('workers', values.workers),
    seed: number('seed', values.seed),
    model,
  };
  if (values['early-stop'] && values['no-early-stop']) throw new UsageError('--early-stop and --no-early-stop contradict each other');
  if (values.exits !== undefined && !['all', 'last'].includes(values.exits)) throw new UsageError(`--exits must be all or last, got '${values.exits}'`);
  if (values['lr-schedule'] && !['piecewise', 'cyclic'].includes(values['lr-schedule'])) {
    throw new UsageError(`--lr-schedule must be piecewise or cyclic, got '${values['lr-schedule']}'`);
  }
  if (values.preset !== undefined && !PRESET_IDS.includes(values.preset as PresetId)) {
    throw new UsageError(`unknown preset '${values.preset}' (presets: ${PRESET_IDS.join(', ')})`);
  }
  const chosen = values.preset ? withPreset(values.preset as PresetId, input) : input;
  const parsed = TrainConfigSchema.safeParse(JSON.parse(JSON.stringify(chosen)));
  if (!parsed.success) throw new UsageError(describeZodError(parsed.error).replace(/^(\w+):/, (_, f: string) => `--${kebab(f)}:`));
  try {
    resolveTrainConfig(parsed.data);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const home = resolveHome(values.home);
  const known = availableIds(home);
  if (!known.includes(parsed.data.dataset)) {
    throw new UsageError(`unknown data set '${parsed.data.dataset}' (available: ${known.join(', ')}; import one with \`exitlab datasets import\`)`);
  }
  return { config: parsed.data, json: values.json ?? false, home, help: values.help ?? false };
}

/** Schema field → its command-line flag, where the two differ. */
const FLAG_OF: Record<string, string> = { tradesBeta: 'beta', freeReplays: 'replays', maxBatchesPerEpoch: 'max-batches', lambdaWarmupEpochs: 'lambda-warmup' };
const kebab = (s: string) => FLAG_OF[s] ?? s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`.padStart(7);

export function summaryOf(outcome: RunOutcome) {
  const final = outcome.final.type === 'finished' ? outcome.final.final : null;
  return {
    type: 'summary' as const,
    runId: outcome.runId,
    status: outcome.final.type === 'finished' ? outcome.final.status : 'failed',
    failure: outcome.final.type === 'failed' ? { kind: outcome.final.kind, message: outcome.final.message } : null,
    method: outcome.config.method,
    dataset: outcome.config.dataset,
    backend: outcome.backend,
    epochs: outcome.final.type === 'finished' ? outcome.final.epochs : null,
    seconds: outcome.final.type === 'finished' ? outcome.final.seconds : null,
    bestEpoch: outcome.final.type === 'finished' ? outcome.final.bestEpoch : null,
    catastrophicOverfittingEpochs: outcome.overfitEpochs,
    exits: final ? final.exits.map((e) => ({ ...e, macs: outcome.model?.perExit[e.exit]?.macs ?? null })) : [],
  };
}

function printTable(metrics: EpochMetrics, model: ModelSummary | null): void {
  console.log('\nexit   MMACs   clean    FGSM     PGD-10   train-adv  ‖W_fc‖    λ');
  for (const e of metrics.exits) {
    const macs = model ? (model.perExit[e.exit].macs / 1e6).toFixed(1) : '?';
    console.log(`${String(e.exit + 1).padStart(4)} ${macs.padStart(7)} ${pct(e.valCleanAcc)}  ${pct(e.valFgsmAcc)}  ${pct(e.valPgdAcc)}  ` +
      `${pct(e.trainAdvAcc)}  ${e.fcWeightNorm.toFixed(3).padStart(8)}  ${e.lambda}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const { config, json, home, help } = configFromArgs(argv);
  if (help) {
    console.log(HELP);
    return 0;
  }
  const bar = json ? null : new ProgressBar(process.stderr);
  const onEvent = (event: EngineEvent) => {
    if (json) return console.log(JSON.stringify(event));
    bar!.onEvent(event);
  };
  const service = new RunService({ home });
  let outcome: RunOutcome;
  try {
    const active = service.start(config, { onEvent });
    outcome = await stoppingOnSignals(active.done, () => active.send({ type: 'stop' }));
  } finally {
    await service.close();
  }
  const s = summaryOf(outcome);
  if (json) console.log(JSON.stringify(s));
  else {
    bar!.clear();
    const final = outcome.final;
    if (final.type === 'failed') console.error(`exitlab train: run ${outcome.runId} failed (${final.kind}): ${final.message}`);
    else {
      console.log(`run ${outcome.runId} ${final.status} after ${final.epochs} epoch(s) in ${final.seconds.toFixed(0)} s on ${outcome.backend ?? '?'}`);
      if (final.final) printTable(final.final, outcome.model);
      if (outcome.overfitEpochs.length) {
        console.log(`catastrophic overfitting flagged at epoch(s) ${outcome.overfitEpochs.join(', ')}; best checkpoint: epoch ${final.bestEpoch}`);
      }
    }
  }
  return outcome.final.type === 'failed' ? 1 : outcome.final.status === 'stopped' ? 130 : 0;
}
