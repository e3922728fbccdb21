import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeStaleTemps, removeStaleTempsInHome, tempPathFor, tempPathInHome } from '../../src-main/temp-files';
import { tempHome } from './store/fixtures';

/** The pid of a process that has exited (the kernel may reuse it, but not within a test). */
const deadPid = () => spawnSync(process.execPath, ['-e', 'process.pid']).pid!;

describe('temporary files', () => {
  it("removes a dead writer's temporaries at start, and never a live writer's or a finished file", () => {
    const home = tempHome('exitlab-temp-');
    const dead = deadPid();
    const run = path.join(home, 'runs', 'r1');
    fs.mkdirSync(path.join(run, 'evaluations'), { recursive: true });
    const stale = [
      path.join(run, `last.ckpt.tmp-${dead}-0a1b2c3d`),
      path.join(run, 'evaluations', `eval-1.json.tmp-${dead}-00ff00ff`),
      path.join(home, 'tmp', `dataset-cifar10.tmp-${dead}-12345678`),
    ];
    const kept = [path.join(run, 'last.ckpt'), tempPathFor(path.join(run, 'best.ckpt')), tempPathInHome(home, 'import-r2')];
    for (const f of [...stale, ...kept]) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      if (f.includes('dataset-') || f.includes('import-')) fs.mkdirSync(f);
      else fs.writeFileSync(f, 'x');
    }
    expect(removeStaleTempsInHome(home).sort()).toEqual([...stale].sort());
    for (const f of kept) expect(fs.existsSync(f), f).toBe(true);
  });

  it('cleans only the temporaries of the destination it is given', () => {
    const dir = tempHome('exitlab-temp-');
    const dead = deadPid();
    fs.writeFileSync(path.join(dir, `run.exitlab.tmp-${dead}-aa`), 'x');
    fs.writeFileSync(path.join(dir, `other.exitlab.tmp-${dead}-bb`), 'x');
    expect(removeStaleTemps(dir, 'run.exitlab').map((f) => path.basename(f))).toEqual([`run.exitlab.tmp-${dead}-aa`]);
    expect(fs.readdirSync(dir)).toEqual([`other.exitlab.tmp-${dead}-bb`]);
  });
});
