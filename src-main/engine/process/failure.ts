// Turns whatever ended a run into a failure kind the user can act on.
import type { FailureKind } from '../../../src-shared/engine-messages';
import { NanLossError } from '../train/trainer';
import { ConfigError } from '../train/resolve-config';

export function classifyFailure(err: unknown): { kind: FailureKind; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof NanLossError) return { kind: 'nan-loss', message };
  if (err instanceof ConfigError) return { kind: 'invalid-config', message };
  if (/out of memory|\bOOM\b|allocation failed|Cannot allocate|Array buffer allocation|Invalid array length/i.test(message)) {
    return { kind: 'out-of-memory', message: `out of memory: ${message} (try a smaller batch size or model)` };
  }
  return { kind: 'error', message };
}
