// The one data folder under which everything the app writes lives: data sets, runs, the database.
import * as os from 'node:os';
import * as path from 'node:path';

export function resolveHome(flag?: string): string {
  const chosen = flag ?? process.env.EXITLAB_HOME;
  return path.resolve(chosen && chosen.length > 0 ? chosen : path.join(os.homedir(), '.exitlab'));
}

export const homePaths = (home: string) => ({
  datasets: path.join(home, 'datasets'),
  runs: path.join(home, 'runs'),
  studies: path.join(home, 'studies'),
  database: path.join(home, 'exitlab.db'),
  tmp: path.join(home, 'tmp'),
});
