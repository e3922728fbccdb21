// Whether a process recorded as the owner or writer of something is still running.

/** EPERM: it exists but belongs to another user. */
export const isProcessAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};
