// `exitlab <command> …`: the same services as the app, headless. Each command lives in its own
// module, loaded only when used so that `exitlab datasets list` does not pay for the engine.
import { CommandError, UsageError } from './errors';

type Command = { run(argv: string[]): Promise<number>; summary: string };

const COMMANDS: Record<string, () => Promise<Command>> = {
  train: () => import('./commands/train'),
  datasets: () => import('./commands/datasets'),
  runs: () => import('./commands/runs'),
  export: () => import('./commands/export'),
  eval: () => import('./commands/eval'),
  table: () => import('./commands/table'),
  study: () => import('./commands/study'),
};

function usage(): string {
  return [
    'usage: exitlab <command> [options]',
    '',
    'commands:',
    ...Object.keys(COMMANDS).map((name) => `  ${name}`),
    '',
    'Run `exitlab <command> --help` for the options of a command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`exitlab: error: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`exitlab ${name}: error: ${err.message}`);
      return 2;
    }
    if (err instanceof CommandError) {
      console.error(`exitlab ${name}: error: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
