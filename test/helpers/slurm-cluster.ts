// A Slurm cluster for the tests: the one .ci/run started (SLURM_CONF set and answering), or else a
// one-node cluster started here with test/slurm/start-cluster.sh and stopped after the file's tests.
// Where neither can be had, `skip` says why, and EXITLAB_REQUIRE_SLURM=1 (as .ci/run sets it) turns
// that into a failure instead.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SCRIPTS = path.join(__dirname, '..', 'slurm');

export interface TestCluster {
  /** Why the Slurm tests cannot run here; null when they can. */
  skip: string | null;
  stop(): void;
}

const answers = () => {
  try {
    execFileSync('sinfo', ['-h', '-o', '%T'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
};

function tail(err: unknown): string {
  const e = err as { stderr?: Buffer; message: string };
  return (e.stderr?.toString().trim().split('\n').slice(-3).join(' / ') || e.message.split('\n')[0]).slice(0, 400);
}

export function testCluster(): TestCluster {
  const none = (skip: string): TestCluster => {
    if (process.env.EXITLAB_REQUIRE_SLURM) throw new Error(`EXITLAB_REQUIRE_SLURM is set but no Slurm cluster can be used: ${skip}`);
    console.warn(`Slurm tests skipped: ${skip}`);
    return { skip, stop: () => undefined };
  };
  if (process.env.SLURM_CONF && answers()) return { skip: null, stop: () => undefined };
  if (process.getuid?.() !== 0) return none('starting a test cluster needs root (slurmd starts the jobs as their user)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-slurm-'));
  try {
    execFileSync(path.join(SCRIPTS, 'start-cluster.sh'), [dir], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    return none(`test/slurm/start-cluster.sh failed: ${tail(err)}`);
  }
  process.env.SLURM_CONF = path.join(dir, 'slurm.conf');
  return {
    skip: null,
    stop: () => {
      execFileSync(path.join(SCRIPTS, 'stop-cluster.sh'), [dir], { stdio: 'ignore', timeout: 60_000 });
      delete process.env.SLURM_CONF;
    },
  };
}
