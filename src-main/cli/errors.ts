/** A problem with what the user typed: printed as one line, exit code 2, before any work starts. */
export class UsageError extends Error {}

/** A failure of the work itself (a failed run, a bad file): one line, exit code 1. */
export class CommandError extends Error {}
