// Turns one raw call (method name + untrusted params) into an envelope: the request is parsed with
// the contract's schema before the handler runs, the handler's answer is parsed before it is sent,
// and every failure becomes a readable message instead of a stack trace.
import { API_METHODS, type ApiEnvelope, type ApiMethod, type ApiRequest, type ApiResponse } from '../../src-shared/api';
import { describeZodError } from '../../src-shared/config';
import { ApiError } from './errors';

export type Handlers = { [M in ApiMethod]: (request: ApiRequest<M>) => Promise<ApiResponse<M>> | ApiResponse<M> };

const isMethod = (name: string): name is ApiMethod => Object.prototype.hasOwnProperty.call(API_METHODS, name);

/** A refused request lists this many problems at most: a 100,000-element array of wrong types is one line, not 100,000. */
const MAX_ISSUES = 5;
const MAX_MESSAGE = 500;
const UNEXPECTED = new Set<unknown>([Error, TypeError, RangeError, ReferenceError, SyntaxError]);

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
/** Messages are shown in one line of the UI: the first line, clipped (a stack or a dump never reaches the user). */
const oneLine = (message: string) => clip(message.split(/\r?\n/)[0], MAX_MESSAGE);

export async function dispatch(handlers: Handlers, method: unknown, params: unknown): Promise<ApiEnvelope> {
  if (typeof method !== 'string' || !isMethod(method)) {
    return { ok: false, error: { code: 'unknown-method', message: oneLine(`unknown api method '${clip(String(method).replace(/[\r\n]+/g, ' '), 80)}'`) } };
  }
  const spec = API_METHODS[method];
  const request = spec.request.safeParse(params ?? {});
  if (!request.success) {
    return { ok: false, error: { code: 'bad-request', message: oneLine(`${method}: ${describeZodError(request.error, MAX_ISSUES)}`) } };
  }
  let value: unknown;
  try {
    const handler = handlers[method] as (r: unknown) => unknown;
    value = await handler(request.data);
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, error: { code: err.code, message: oneLine(err.message) } };
    // Errors the services throw on purpose (bad file, unknown id…) are subclasses carrying a
    // sentence already; a bare Error, TypeError… is a bug, logged in full for the developer.
    if (!(err instanceof Error) || UNEXPECTED.has(err.constructor)) console.error(`exitlab: ${method} failed:`, err);
    return { ok: false, error: { code: 'failed', message: oneLine(err instanceof Error ? err.message : String(err)) } };
  }
  const response = spec.response.safeParse(value);
  if (!response.success) {
    console.error(`exitlab: ${method} returned a value outside the contract: ${describeZodError(response.error)}`);
    return { ok: false, error: { code: 'internal', message: `${method}: the main process produced an invalid answer (${describeZodError(response.error)})` } };
  }
  return { ok: true, value: response.data };
}
