// The folder holding ExitLab's package.json, found from this file's location so that the same code
// works from dist/ (compiled), from src-main/ (under tsx) and inside a packaged app.asar.
import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: { root: string; version: string } | null = null;

export function appRoot(): { root: string; version: string } {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'exitlab') return (cached = { root: dir, version: pkg.version ?? '0.0.0' });
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find ExitLab's package.json above ${__dirname}`);
  }
}

/** The built renderer (`npm run build:renderer`). */
export const rendererDir = () => path.join(appRoot().root, 'dist-renderer');
