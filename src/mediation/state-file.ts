/**
 * Small JSON files the mediator keeps in its dataDir (task ids, CIN allocations, probe
 * watermarks), written atomically: temp file, fsync, rename, directory fsync. A crash leaves
 * the old content or the new, never a mix; a file that does not parse is refused, never
 * silently replaced (its ids are referenced by records already journaled and delivered).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MediationError } from '../errors';

/** Largest state file read: these files hold one small entry per intercept or probe. */
export const MAX_STATE_FILE_BYTES = 16 * 1024 * 1024;
/** Files are private to the mediator: they name LIIDs. */
export const STATE_FILE_MODE = 0o600;

/** Reads and parses `file`; undefined when it does not exist. Throws MEDIATION_STATE when damaged. */
export async function readStateFile(file: string): Promise<unknown> {
  await fsp.rm(`${file}.tmp`, { force: true }).catch(() => undefined);
  let text: string;
  try {
    const fh = await fsp.open(file, 'r');
    try {
      const { size } = await fh.stat();
      if (size > MAX_STATE_FILE_BYTES) throw new MediationError('LIG_ERR_MEDIATION_STATE', `${file} has ${size} bytes, more than MAX_STATE_FILE_BYTES (${MAX_STATE_FILE_BYTES})`);
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (e instanceof MediationError) throw e;
    throw new MediationError('LIG_ERR_MEDIATION_IO', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MediationError('LIG_ERR_MEDIATION_STATE', `${file} is not valid JSON (damaged)`);
  }
}

/** Durably replaces `file` with `value` as JSON. Throws MEDIATION_IO. */
export async function writeStateFile(file: string, value: unknown): Promise<void> {
  const temp = `${file}.tmp`;
  try {
    const fh = await fsp.open(temp, 'w', STATE_FILE_MODE);
    try {
      await fh.writeFile(`${JSON.stringify(value, null, 1)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(temp, file);
    const dir = await fsp.open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (e) {
    throw new MediationError('LIG_ERR_MEDIATION_IO', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** A typed error for a state file whose content does not have the expected shape. */
export function damaged(file: string, what: string): MediationError {
  return new MediationError('LIG_ERR_MEDIATION_STATE', `${file} is damaged: ${what}`);
}
