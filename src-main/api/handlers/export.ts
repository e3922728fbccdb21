import type { Handlers } from '../dispatch';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';

// PENDING(store helper): model export plugs in here as src-main/export lands.
export function exportHandlers(_ctx: ApiContext): Pick<Handlers, 'export.model'> {
  return {
    'export.model': () => {
      throw new ApiError('unavailable', 'model export is not available yet');
    },
  };
}
