// `exitlab datasets …`: import, list, remove and download data sets in the data folder.
import { parseArgs } from 'node:util';
import type { DatasetManifest } from '../../../src-shared/datasets';
import { listDatasets, removeDataset } from '../../datasets/catalog';
import { downloadDataset, DOWNLOADS, type DownloadProgress } from '../../datasets/download';
import { DatasetError } from '../../datasets/errors';
import { HOLDOUT, importDataset } from '../../datasets/importers';
import { resolveHome } from '../../home';
import { CommandError, UsageError } from '../errors';

export const summary = 'import, list, remove and download data sets (CIFAR-10, CIFAR-100, SVHN, CIFAR-10-layout .bin)';

const HELP = `usage: exitlab datasets <action> [options]

  list [--json]                         the data sets in the data folder
  import <path> [--name <name>] [--labels fine|coarse] [--with-extra] [--json]
                                        import cifar-10-binary.tar.gz / cifar-100-binary.tar.gz (or
                                        their folders), SVHN train_32x32.mat + test_32x32.mat, or a
                                        single .bin in the CIFAR-10 record layout. Its test split: the
                                        file beside it named with 'test' for 'train' (cifar10-train.bin
                                        → cifar10-test.bin) when there is one; else the last
                                        ${Math.round(100 * HOLDOUT)}% of its records are held out. The import says which.
  remove <id>                           delete a data set from the data folder
  download cifar10|cifar100|svhn [--labels fine|coarse] [--with-extra] [--json]
                                        fetch the official files (resumable, checksum-verified) and
                                        import them; EXITLAB_DOWNLOAD_MIRROR=<url> fetches from a mirror

  --home <dir>    data folder (default $EXITLAB_HOME or ~/.exitlab)
  --json          print the result as JSON on stdout (progress goes to stderr)`;

const OPTIONS = {
  name: { type: 'string' },
  labels: { type: 'string' },
  'with-extra': { type: 'boolean' },
  json: { type: 'boolean' },
  home: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function labelsOption(raw: string | undefined): 'fine' | 'coarse' | undefined {
  if (raw === undefined) return undefined;
  if (raw !== 'fine' && raw !== 'coarse') throw new UsageError(`--labels must be fine or coarse, got '${raw}'`);
  return raw;
}

function table(sets: DatasetManifest[]): string {
  const rows = [['id', 'name', 'source', 'classes', 'train', 'test', 'imported'], ...sets.map((m) => [
    m.id, m.name, m.source, String(m.classes.length), String(m.splits.train?.count ?? 0), String(m.splits.test?.count ?? 0), m.importedAt.slice(0, 10),
  ])];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

function describeSet(m: DatasetManifest): string {
  const splits = Object.entries(m.splits).map(([k, s]) => `${s.count} ${k}`).join(', ');
  const origin = m.origin as { testPath?: unknown; testHeldOut?: unknown } | undefined;
  const test = typeof origin?.testPath === 'string' ? `; test split from the sibling file ${origin.testPath}`
    : typeof origin?.testHeldOut === 'string' ? `; no sibling *test* file, so the test split is the ${origin.testHeldOut} held out ` +
      `(${Math.round(100 * HOLDOUT)}%)` : '';
  return `imported '${m.id}' (${m.name}): ${m.classes.length} classes, ${splits} images${test}`;
}

/** A progress line on stderr: redrawn in place on a terminal, otherwise one line per message. */
function progressReporter() {
  const tty = process.stderr.isTTY;
  let last = '';
  return {
    message(text: string) {
      if (tty) process.stderr.write(`\r${text.padEnd(last.length)}\n`);
      else process.stderr.write(`${text}\n`);
      last = '';
    },
    download(p: DownloadProgress) {
      const mb = (n: number) => (n / 1e6).toFixed(1);
      const text = `${p.file}: ${mb(p.received)}${p.total ? ` / ${mb(p.total)} MB (${Math.floor((100 * p.received) / p.total)}%)` : ' MB'}` +
        `${p.resumedFrom ? ` (resumed at ${mb(p.resumedFrom)} MB)` : ''}`;
      if (tty) {
        process.stderr.write(`\r${text.padEnd(last.length)}`);
        last = text;
      } else if (p.total !== null && p.received === p.total) {
        process.stderr.write(`${text}\n`);
      }
    },
  };
}

async function guarded<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DatasetError) throw new CommandError(err.message);
    throw err;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [action, ...args] = positionals;
  if (values.help || !action) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const home = resolveHome(values.home);
  const json = Boolean(values.json);
  const progress = progressReporter();
  const onProgress = json ? undefined : (m: string) => progress.message(m);

  switch (action) {
    case 'list': {
      if (args.length) throw new UsageError(`list takes no arguments, got '${args.join(' ')}'`);
      const sets = await guarded(() => listDatasets(home));
      console.log(json ? JSON.stringify({ datasets: sets }) : table(sets));
      return 0;
    }
    case 'import': {
      if (args.length !== 1) throw new UsageError('import needs exactly one path (a .tar.gz, a folder, a .mat or a .bin)');
      const manifest = await guarded(() => importDataset(home, args[0], {
        name: values.name, labels: labelsOption(values.labels), withExtra: values['with-extra'], onProgress,
      }));
      console.log(json ? JSON.stringify(manifest) : describeSet(manifest));
      return 0;
    }
    case 'remove': {
      if (args.length !== 1) throw new UsageError('remove needs exactly one data set id');
      await guarded(() => removeDataset(home, args[0]));
      console.log(json ? JSON.stringify({ removed: args[0] }) : `removed '${args[0]}'`);
      return 0;
    }
    case 'download': {
      if (args.length !== 1 || !(args[0] in DOWNLOADS)) {
        throw new UsageError(`download needs one of ${Object.keys(DOWNLOADS).join(', ')}${args.length ? `, got '${args.join(' ')}'` : ''}`);
      }
      const mirror = process.env.EXITLAB_DOWNLOAD_MIRROR || undefined;
      const manifest = await guarded(() => downloadDataset(home, args[0], {
        name: values.name,
        labels: labelsOption(values.labels),
        withExtra: values['with-extra'],
        mirror,
        onProgress,
        onDownload: json ? undefined : (p) => progress.download(p),
      }));
      console.log(json ? JSON.stringify(manifest) : describeSet(manifest));
      return 0;
    }
    default:
      throw new UsageError(`unknown action '${action}' (actions: list, import, remove, download)`);
  }
}
