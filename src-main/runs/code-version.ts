// The code version recorded with every run: package version plus the git commit when the app runs
// from a checkout (a packaged app has no .git and records the version alone).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: string | null = null;

function packageRoot(): string | null {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim();
  } catch {
    return null;
  }
}

export function codeVersion(): string {
  if (cached) return cached;
  const root = packageRoot();
  let version = 'unknown';
  if (root) {
    try {
      version = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      // An unreadable package.json leaves 'unknown': the run is still worth recording.
    }
    if (fs.existsSync(path.join(root, '.git'))) {
      const commit = git(root, ['rev-parse', '--short=12', 'HEAD']);
      if (commit) {
        const dirty = git(root, ['status', '--porcelain', '--untracked-files=no']);
        version += `+${commit}${dirty ? '.dirty' : ''}`;
      }
    }
  }
  cached = version;
  return version;
}
