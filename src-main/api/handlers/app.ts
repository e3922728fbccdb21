import type { Handlers } from '../dispatch';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';

export function appHandlers(ctx: ApiContext): Pick<Handlers, 'app.info' | 'app.pickPath'> {
  return {
    'app.info': () => ({ version: ctx.version, home: ctx.home, mode: ctx.mode, platform: process.platform, nativeDialogs: Boolean(ctx.pickPath) }),
    'app.pickPath': async (request) => {
      if (!ctx.pickPath) throw new ApiError('unavailable', 'native dialogs exist only in the desktop app; type the path instead');
      return { path: await ctx.pickPath(request) };
    },
  };
}
