// The bench runs both from source (tsx) and from dist/ (npm run bench): files it reads beside the
// sources (the PyTorch script, ../shared/data) are found from the repository root, not __dirname.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function repoRoot(from: string = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}
