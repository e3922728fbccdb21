// Turns whatever ended a run into a failure kind the user can act on.
import type { FailureKind } from '../../../src-shared/engine-messages';
import { NanLossError } from '../train/trainer';
import { ConfigError } from '../train/resolve-config';
import { looksOutOfMemory } from './out-of-memory';
import { NotEnoughMemoryError } from '../parallel/memory';

/** `batchSize`, when known, is named in the out-of-memory advice. */
export function classifyFailure(err: unknown, batchSize?: number): { kind: FailureKind; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof NanLossError) return { kind: 'nan-loss', message };
  if (err instanceof ConfigError) return { kind: 'invalid-config', message };
  // Refused before the first step: its message already names the memory needed.
  if (err instanceof NotEnoughMemoryError) return { kind: 'out-of-memory', message };
  if (looksOutOfMemory(message)) {
    const advice = batchSize && batchSize > 1
      ? `batch size ${batchSize} does not fit: try ${Math.floor(batchSize / 2)} or a smaller model`
      : 'try a smaller batch size or model';
    return { kind: 'out-of-memory', message: `out of memory: ${message} (${advice})` };
  }
  return { kind: 'error', message };
}
