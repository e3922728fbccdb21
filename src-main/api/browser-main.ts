// `npm run dev:browser`: the app without Electron. Serves the built renderer and the api on
// http://127.0.0.1:<port>/ for any Chromium (and the end-to-end tests). Ctrl-C stops live runs on a
// checkpoint before exiting.
//   node dist/src-main/api/browser-main.js [--port N] [--home DIR]
import { parseArgs } from 'node:util';
import { resolveHome } from '../home';
import { createApiService } from './service';
import { startBrowserServer } from './ws-server';
import { rendererDir } from '../app-root';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, home: { type: 'string' } }, strict: true });
  const port = values.port ?? process.env.EXITLAB_PORT ?? '5178';
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new Error(`--port must be a port number, got '${port}'`);
  const home = resolveHome(values.home);
  const service = createApiService({ home, mode: 'browser' });
  const server = await startBrowserServer(service, { rendererDir: rendererDir(), port: Number(port) });
  // One line a script can wait for.
  console.log(`ExitLab browser mode: ${server.url} (data folder ${home})`);

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    console.log('ExitLab: stopping live runs…');
    await service.shutdown();
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(`exitlab browser mode: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
