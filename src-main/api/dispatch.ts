// Turns one raw call (method name + untrusted params) into an envelope: the request is parsed with
// the contract's schema before the handler runs, the handler's answer is parsed before it is sent,
// and every failure becomes a readable message instead of a stack trace.
import { API_METHODS, type ApiEnvelope, type ApiMethod, type ApiRequest, type ApiResponse } from '../../src-shared/api';
import { describeZodError } from '../../src-shared/config';
import { ApiError } from './errors';

export type Handlers = { [M in ApiMethod]: (request: ApiRequest<M>) => Promise<ApiResponse<M>> | ApiResponse<M> };

const isMethod = (name: string): name is ApiMethod => Object.prototype.hasOwnProperty.call(API_METHODS, name);

export async function dispatch(handlers: Handlers, method: unknown, params: unknown): Promise<ApiEnvelope> {
  if (typeof method !== 'string' || !isMethod(method)) {
    return { ok: false, error: { code: 'unknown-method', message: `unknown api method '${String(method)}'` } };
  }
  const spec = API_METHODS[method];
  const request = spec.request.safeParse(params ?? {});
  if (!request.success) {
    return { ok: false, error: { code: 'bad-request', message: `${method}: ${describeZodError(request.error)}` } };
  }
  let value: unknown;
  try {
    const handler = handlers[method] as (r: unknown) => unknown;
    value = await handler(request.data);
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, error: { code: err.code, message: err.message } };
    const message = err instanceof Error ? err.message : String(err);
    // Errors the services throw on purpose (bad file, unknown id…) carry a sentence already;
    // anything else is logged in full for the developer and shown as its message.
    if (!(err instanceof Error) || err.name === 'Error' || err.name === 'TypeError' || err.name === 'RangeError') console.error(`exitlab: ${method} failed:`, err);
    return { ok: false, error: { code: 'failed', message } };
  }
  const response = spec.response.safeParse(value);
  if (!response.success) {
    console.error(`exitlab: ${method} returned a value outside the contract: ${describeZodError(response.error)}`);
    return { ok: false, error: { code: 'internal', message: `${method}: the main process produced an invalid answer (${describeZodError(response.error)})` } };
  }
  return { ok: true, value: response.data };
}
