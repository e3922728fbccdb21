// A failed write as a user can act on it: which file, and why in words. Node's own message for a
// full disk ("ENOSPC: no space left on device, write") names neither the file nor the folder, and
// SQLite says only "disk I/O error" when a full disk stops it creating its journal.
import * as fs from 'node:fs';
import * as path from 'node:path';
const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files',
  SQLITE_FULL: 'no space left on the device (the database is full)',
  SQLITE_READONLY: 'the database is read-only',
  SQLITE_CANTOPEN: 'the database file cannot be opened',
};

/** Below this much free space, SQLite's I/O errors are taken for a full disk. */
const NEARLY_FULL = 256 * 1024;

function freeBytes(file: string): number | null {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      const s = fs.statfsSync(dir);
      return s.bavail * s.bsize;
    } catch {
      if (dir === path.dirname(dir)) return null;
    }
  }
}

/**
 * "<reason> (<code>)" for a file-system or SQLite write failure, else null. `file` is the path
 * written, where the free space is looked up.
 */
function writeFailureReason(err: unknown, file: string): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code in REASONS) return `${REASONS[code]} (${code})`;
  const free = code.startsWith('SQLITE_IOERR') ? freeBytes(file) : null;
  if (free !== null && free < NEARLY_FULL) return `no space left on the device (${code})`;
  return null;
}

/**
 * "<prefix>: <reason> (<code>)" for a file-system or SQLite write failure of `file`; for any other
 * error, "<otherwise>: <its own message>" (`otherwise` differs where the error may be no write's).
 */
export function writeFailureMessage(err: unknown, prefix: string, file: string, otherwise = prefix): string {
  const reason = writeFailureReason(err, file);
  return reason ? `${prefix}: ${reason}` : `${otherwise}: ${(err as Error).message}`;
}

/**
 * Rethrows a write failure as `wrap("cannot write <what>: <reason> (<code>)")`, `what` naming what
 * was being written, with its path; anything else unchanged.
 */
export function rethrowWriteFailure(err: unknown, what: string, file: string, wrap: (message: string) => Error = (m) => new Error(m)): never {
  const reason = writeFailureReason(err, file);
  throw reason ? wrap(`cannot write ${what}: ${reason}`) : err;
}
