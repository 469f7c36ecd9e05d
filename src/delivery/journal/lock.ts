/**
 * One process per journal directory: a lock file created exclusively, holding the owner's
 * pid. A lock left by a process that no longer exists (it crashed) is taken over.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { JournalError } from '../../errors';

export const LOCK_FILE = 'lock';

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held lock; `release()` removes the file if it is still ours. */
export interface JournalLock {
  readonly file: string;
  release(): Promise<void>;
}

/**
 * Takes the lock of `dir` or throws LOCKED naming the live holder's pid. A lock file whose
 * pid is not running, or that holds no pid (its writer died between create and write), is
 * stale and is replaced.
 */
export async function acquireLock(dir: string): Promise<JournalLock> {
  const file = path.join(dir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fsp.writeFile(file, mine, { flag: 'wx' });
      return {
        file,
        async release() {
          const now = await fsp.readFile(file, 'utf8').catch(() => undefined);
          if (now === mine) await fsp.rm(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const text = await fsp.readFile(file, 'utf8').catch(() => '');
    const pid = /^\d+\n?$/.test(text) ? Number.parseInt(text, 10) : undefined;
    if (pid !== undefined && alive(pid)) {
      throw new JournalError(
        'LIG_ERR_JOURNAL_LOCKED',
        `journal ${dir} is locked by running process ${pid}${pid === process.pid ? ' (this process)' : ''}`,
        { file },
      );
    }
    await fsp.rm(file, { force: true });
  }
  throw new JournalError('LIG_ERR_JOURNAL_LOCKED', `journal ${dir}: could not take the lock (contended)`, { file });
}
