// Ctrl-C and SIGTERM (a terminal, a service manager, Slurm's scancel or time limit) stop long work
// on a checkpoint instead of killing it mid-write: while `done` is pending they call `stop`.
export async function stoppingOnSignals<T>(done: Promise<T>, stop: () => void): Promise<T> {
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
