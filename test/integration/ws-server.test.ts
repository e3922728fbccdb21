// Browser mode's WebSocket server under hostile clients: a frame over maxPayload, a malformed frame
// and a client that vanishes mid-call each end that one connection, and the server keeps serving.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WS_PATH } from '../../src-shared/api';

let dir: string;
let child: ChildProcess;
const server = { port: 0 };
let exited: string | null = null;
/** Rejects when the server process dies, so a crash fails a test at once instead of timing out. */
let died: Promise<never>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-ws-'));
  child = fork(path.join(__dirname, 'ws-server.fixture.ts'), [dir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  died = new Promise((_, reject) =>
    child.on('exit', (code, signal) => {
      exited = `server process exited (${signal ?? code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      reject(new Error(exited));
    }),
  );
  died.catch(() => undefined);
  server.port = await new Promise<number>((resolve) => child.once('message', (m) => resolve((m as { port: number }).port)));
});

afterAll(() => {
  child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

const origin = () => `http://127.0.0.1:${server.port}`;

function connect(): Promise<WebSocket> {
  if (exited) throw new Error(exited);
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`, { origin: origin() });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function call(socket: WebSocket, id: number, method: string, params: unknown = {}): Promise<{ ok: boolean }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const reply = JSON.parse(data.toString());
      if (reply.id !== id) return;
      socket.off('message', onMessage);
      resolve(reply.envelope);
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ id, method, params }));
  });
}

const closed = (socket: WebSocket) => Promise.race([died, new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))]);

describe('browser-mode WebSocket server', { timeout: 15_000 }, () => {
  it('closes only the connection that sent a frame over maxPayload', async () => {
    const bystander = await connect();
    const attacker = await connect();
    attacker.on('error', () => undefined);
    const gone = closed(attacker);
    attacker.send(Buffer.alloc(2 << 20, 0x61));
    expect(await gone).toBe(1009);
    expect((await call(bystander, 1, 'app.info')).ok).toBe(true);
    expect((await call(await connect(), 2, 'app.info')).ok).toBe(true);
    bystander.close();
  });

  it('survives a malformed frame on a raw socket', async () => {
    const raw = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    raw.write(
      `GET ${WS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: ${origin()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await new Promise<void>((resolve) => raw.once('data', () => resolve()));
    const ended = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    // RSV1 set without a negotiated extension, and an unmasked client frame: both protocol errors.
    raw.write(Buffer.from([0xc1, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]));
    await Promise.race([died, ended]);
    const client = await connect();
    expect((await call(client, 3, 'app.info')).ok).toBe(true);
    client.close();
  });

  it('keeps serving after a client vanishes with a call in flight', async () => {
    const leaver = await connect();
    leaver.send(JSON.stringify({ id: 4, method: 'datasets.list', params: {} }));
    leaver.terminate();
    const client = await connect();
    expect((await call(client, 5, 'datasets.list')).ok).toBe(true);
    client.close();
  });
});
