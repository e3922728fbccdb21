// The prologue every store-backed command shares: options parsed strictly (a typo is a usage error,
// exit 2), --help, and the run store opened with its failures as one-line command errors (exit 1).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { openStore, StoreError, type RunStore } from '../store/run-store';
import { CommandError, UsageError } from './errors';

type Options = NonNullable<ParseArgsConfig['options']>;

function strictParse<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The parsed options, or null when --help asked for the usage text (printed here). */
export function parseOptions<O extends Options>(argv: string[], options: O, help: string) {
  const values = strictParse(argv, options);
  if ((values as { help?: boolean }).help) {
    console.log(help);
    return null;
  }
  return values;
}

export function openStoreForCommand(home: string): RunStore {
  try {
    return openStore(home);
  } catch (err) {
    if (err instanceof StoreError) throw new CommandError(err.message);
    throw err;
  }
}
