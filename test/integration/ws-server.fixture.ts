// Child process for ws-server.test.ts: browser mode's server on a throwaway renderer and data
// folder, in its own process so that a crash of the server is seen as a dead process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createApiService } from '../../src-main/api/service';
import { startBrowserServer } from '../../src-main/api/ws-server';

const dir = process.argv[2];
const renderer = path.join(dir, 'renderer');
fs.mkdirSync(renderer, { recursive: true });
fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>t</title>');
const service = createApiService({ home: path.join(dir, 'home'), mode: 'browser' });
void startBrowserServer(service, { rendererDir: renderer }).then((server) => process.send!({ port: server.port }));
