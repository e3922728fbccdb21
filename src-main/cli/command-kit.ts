// What every store-backed command shares: options parsed strictly (a typo is a usage error, exit 2),
// --help, the run store opened and closed, and failures worded for the terminal.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { describeZodError } from '../../src-shared/config';
import { openStore, StoreError, type RunStore } from '../store/run-store';
import { CommandError, UsageError } from './errors';

type Options = NonNullable<ParseArgsConfig['options']>;
type ErrorClass = abstract new (...args: never[]) => Error;

function strictParse<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Whether a command-line value is one of a list of literals, e.g. METHODS (narrows its type). */
export function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
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

/**
 * A command's failure as the CLI reports it: store errors and the command's own domain errors become
 * one-line command errors (exit 1), a rejected request a usage error (exit 2); anything else is a bug
 * and keeps its stack.
 */
export function commandFailure(err: unknown, domainErrors: ErrorClass[] = []): unknown {
  if (err instanceof StoreError || domainErrors.some((E) => err instanceof E)) return new CommandError((err as Error).message);
  if (err instanceof z.ZodError) return new UsageError(describeZodError(err));
  return err;
}

export function openStoreForCommand(home: string): RunStore {
  try {
    return openStore(home);
  } catch (err) {
    throw commandFailure(err);
  }
}

/** Runs `body` with the run store open and closes it after, whatever happens. */
export async function withCommandStore<T>(home: string, domainErrors: ErrorClass[], body: (store: RunStore) => Promise<T> | T): Promise<T> {
  const store = openStoreForCommand(home);
  try {
    return await body(store);
  } catch (err) {
    throw commandFailure(err, domainErrors);
  } finally {
    store.close();
  }
}
