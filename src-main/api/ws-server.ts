// Browser mode: serves the built renderer and the api contract over a WebSocket, both on one
// loopback port. The same renderer build that runs in Electron runs here in any Chromium, which is
// how the end-to-end tests drive it. Only pages served by this server may connect: the WebSocket
// checks Origin and Host (a web page elsewhere, or a DNS-rebinding name, is refused).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_PATH, WsRequestSchema, type WsReply } from '../../src-shared/api';
import type { ApiService } from './service';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Styles come from the built stylesheet; Svelte and chart.js set element styles through the
  // CSSOM, which the policy allows without 'unsafe-inline'.
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface BrowserServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function serveStatic(root: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, headers).end();
    return;
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400, headers).end();
    return;
  }
  const file = path.resolve(root, '.' + (pathname === '/' ? '/index.html' : pathname));
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
  if (req.method === 'HEAD') res.end();
  else fs.createReadStream(file).pipe(res);
}

export async function startBrowserServer(service: ApiService, opts: { rendererDir: string; port?: number }): Promise<BrowserServer> {
  const root = path.resolve(opts.rendererDir);
  if (!fs.existsSync(path.join(root, 'index.html'))) {
    throw new Error(`the renderer is not built (${path.join(root, 'index.html')} is missing): run \`npm run build:renderer\``);
  }
  const server = http.createServer((req, res) => serveStatic(root, req, res));
  const host = '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const allowedHosts = new Set([`${host}:${port}`, `localhost:${port}`]);
  const allowedOrigins = new Set([...allowedHosts].map((h) => `http://${h}`));

  const wss = new WebSocketServer({
    server,
    path: WS_PATH,
    maxPayload: 1 << 20,
    verifyClient: ({ req, origin }: { req: http.IncomingMessage; origin: string }) => allowedHosts.has(req.headers.host ?? '') && allowedOrigins.has(origin),
  });
  wss.on('connection', (socket: WebSocket) => {
    const send = (reply: WsReply) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(reply));
    };
    const unsubscribe = service.hub.subscribe((event, payload) => send({ event, payload }));
    socket.on('close', unsubscribe);
    // ws reports a frame over maxPayload, a malformed frame or a reset connection as an 'error' on
    // this socket; unheard, it would crash the whole server. It ends this one connection only.
    socket.on('error', () => socket.terminate());
    socket.on('message', async (data) => {
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString());
      } catch {
        return socket.close(1003, 'not JSON');
      }
      const request = WsRequestSchema.safeParse(raw);
      if (!request.success) return socket.close(1003, 'not an api request');
      send({ id: request.data.id, envelope: await service.call(request.data.method, request.data.params) });
    });
  });

  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
