// Electron main process: one window on the built renderer, the api contract over IPC, the engine
// in utilityProcesses, and a quit that stops live runs on a checkpoint first. Everything behind the
// contract lives in src-main/api (and is tested there, without Electron); this file is the shell.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, session, shell, type WebContents, type WebFrameMain } from 'electron';
import { IPC_EVENT, IPC_INVOKE, type ApiEnvelope } from '../../src-shared/api';
import { resolveHome } from '../home';
import { createApiService, type ApiService } from '../api/service';
import { rendererDir } from '../app-root';
import { CONTENT_SECURITY_POLICY } from '../api/ws-server';
import { startUtilityEngine } from './utility-engine';
import { buildMenu } from './menu';
import type { z } from 'zod';
import type { PickPathRequestSchema } from '../../src-shared/api';

// The renderer is served from a privileged custom scheme rather than file://, so that it has a real
// origin for the CSP and for checking who sends IPC.
const SCHEME = 'app';
const HOST = 'exitlab';
const ENTRY = `${SCHEME}://${HOST}/index.html`;
protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let mainWindow: BrowserWindow | null = null;
let service: ApiService | null = null;

const isAppUrl = (raw: string) => {
  try {
    const url = new URL(raw);
    return url.protocol === `${SCHEME}:` && url.host === HOST;
  } catch {
    return false;
  }
};

/** IPC is answered only for the main frame of our own window showing our own page. */
function isTrustedSender(frame: WebFrameMain | null): boolean {
  return Boolean(frame && mainWindow && frame === mainWindow.webContents.mainFrame && isAppUrl(frame.url));
}

function openExternally(url: string): void {
  if (/^https?:\/\//i.test(url)) void shell.openExternal(url);
}

function serveRenderer(): void {
  const root = rendererDir();
  protocol.handle(SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = path.resolve(root, '.' + decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
    if (url.host !== HOST || !file.startsWith(root + path.sep) || !fs.existsSync(file)) return new Response('not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
}

function hardenContents(contents: WebContents): void {
  // New windows and navigation away from the app open in the user's browser instead.
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event, url) => {
    if (isAppUrl(url)) return;
    event.preventDefault();
    openExternally(url);
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

async function pickPath(request: z.infer<typeof PickPathRequestSchema>): Promise<string | null> {
  const parent = mainWindow ?? undefined;
  if (request.purpose === 'export-folder') {
    const result = parent
      ? await dialog.showSaveDialog(parent, { title: request.title ?? 'Export to a new folder', buttonLabel: 'Export here' })
      : await dialog.showSaveDialog({ title: request.title ?? 'Export to a new folder', buttonLabel: 'Export here' });
    return result.canceled || !result.filePath ? null : result.filePath;
  }
  const options: Electron.OpenDialogOptions = request.purpose === 'import-folder'
    ? { title: request.title ?? 'Import a data set folder', properties: ['openDirectory'] }
    : {
        title: request.title ?? 'Import a data set file',
        properties: ['openFile'],
        filters: [{ name: 'Data sets (CIFAR .tar.gz / .bin, SVHN .mat)', extensions: ['gz', 'tgz', 'bin', 'mat'] }, { name: 'All files', extensions: ['*'] }],
      };
  const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
  return result.canceled || result.filePaths.length === 0 ? null : result.filePaths[0];
}

function createWindow(): void {
  mainWindow = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 960,
    minHeight: 640,
    title: 'ExitLab',
    show: false,
    backgroundColor: '#f6f7f9',
    webPreferences: {
      preload: path.join(__dirname, 'preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('closed', () => (mainWindow = null));
  void mainWindow.loadURL(ENTRY);
}

app.on('web-contents-created', (_event, contents) => hardenContents(contents));

void app.whenReady().then(() => {
  // The renderer needs no camera, notifications, or any other permission.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  serveRenderer();

  const home = resolveHome();
  service = createApiService({ home, mode: 'electron', launchEngine: startUtilityEngine, pickPath });
  ipcMain.handle(IPC_INVOKE, async (event, method: unknown, params: unknown): Promise<ApiEnvelope> => {
    if (!isTrustedSender(event.senderFrame)) {
      return { ok: false, error: { code: 'bad-request', message: 'api calls are accepted only from the ExitLab window' } };
    }
    return service!.call(method, params);
  });
  service.hub.subscribe((name, payload) => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_EVENT, name, payload);
  });

  Menu.setApplicationMenu(buildMenu());
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Quitting stops live runs on a checkpoint first (they can be resumed), then quits for real.
let stopped = false;
app.on('before-quit', (event) => {
  if (stopped || !service) return;
  event.preventDefault();
  stopped = true;
  void service.shutdown(15_000).finally(() => app.quit());
});
