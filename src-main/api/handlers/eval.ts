import type { Handlers } from '../dispatch';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';

// PENDING(eval helper): robustness evaluation plugs in here as src-main/engine/eval lands.
export function evalHandlers(_ctx: ApiContext): Pick<Handlers, 'eval.run'> {
  return {
    'eval.run': () => {
      throw new ApiError('unavailable', 'robustness evaluation is not available yet');
    },
  };
}
