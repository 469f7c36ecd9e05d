/**
 * The confirmed cursor on disk: the highest index the agency has confirmed (and the journal's
 * latest state, when it has one), written atomically (temp file, fsync, rename, directory
 * fsync) so a crash leaves the old value or the new one, never a mix.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { JournalError } from '../../errors';
import { JournalState, decodeCursorState, encodeCursor } from './framing';

export const CURSOR_FILE = 'confirmed';
const CURSOR_TEMP = 'confirmed.tmp';

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** fsyncs a directory so that entries created, renamed or removed in it are durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Reads the confirmed index (0 when no cursor was ever written) and the state saved with it.
 * Throws CORRUPT if unreadable.
 */
export async function readCursor(dir: string): Promise<{ confirmed: bigint; state: JournalState | undefined }> {
  await fsp.rm(path.join(dir, CURSOR_TEMP), { force: true });
  const file = path.join(dir, CURSOR_FILE);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    if (isNotFound(e)) return { confirmed: 0n, state: undefined };
    throw e;
  }
  const cursor = decodeCursorState(bytes);
  if (cursor === undefined) {
    throw new JournalError('LIG_ERR_JOURNAL_CORRUPT', `confirmed cursor ${file} is damaged`, { file, offset: 0 });
  }
  return cursor;
}

/** Durably replaces the cursor with `confirmed` and `state`. */
export async function writeCursor(dir: string, confirmed: bigint, state?: JournalState): Promise<void> {
  const temp = path.join(dir, CURSOR_TEMP);
  const fh = await fsp.open(temp, 'w');
  try {
    await fh.writeFile(encodeCursor(confirmed, state));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(temp, path.join(dir, CURSOR_FILE));
  await syncDir(dir);
}
