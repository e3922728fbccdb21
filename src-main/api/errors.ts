// Errors the api layer answers with: a code the renderer can act on and a message a person can read.
import type { ApiErrorCode } from '../../src-shared/api';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly code: ApiErrorCode, message: string) {
    super(message);
  }
}
