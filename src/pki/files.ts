/**
 * Where lig keeps certificates on disk, and how it writes them.
 *
 * Layout of a directory: `ca.pem`, `ca-key.pem`, and `<name>.pem` / `<name>-key.pem` per leaf.
 * Keys are written with mode 0600, certificates 0644, each through a temporary file in the
 * same directory so a crash never leaves half a key; without `force`, an existing file is
 * never replaced (the final link fails instead).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { CertError } from '../errors';
import type { CertificateAuthority, PemPair } from './issue';
import { loadTlsMaterial } from './load';

/** Paths of a certificate and its key. */
export interface PemPaths {
  cert: string;
  key: string;
}

export const KEY_FILE_MODE = 0o600;
export const CERT_FILE_MODE = 0o644;

export function caPaths(dir: string): PemPaths {
  return { cert: join(dir, 'ca.pem'), key: join(dir, 'ca-key.pem') };
}

export function leafPaths(dir: string, name: string): PemPaths {
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
}

/** Throws LIG_ERR_CERT_EXISTS naming the first of `paths` that exists, unless `force`. */
export function assertAbsent(paths: readonly string[], force: boolean): void {
  if (force) return;
  const taken = paths.filter((p) => existsSync(p));
  if (taken.length > 0) {
    throw new CertError('LIG_ERR_CERT_EXISTS', `${taken.length === 1 ? 'a file exists' : `${taken.length} files exist`}: ${taken.join(', ')} (pass --force to replace)`);
  }
}

/** Writes `data` to `path` with `mode`, atomically; replaces an existing file only if `force`. */
export function writeFileSafely(path: string, data: string, mode: number, force: boolean): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    chmodSync(tmp, mode); // the umask may have removed bits we want (never adds any)
    if (force) renameSync(tmp, path);
    else linkSync(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CertError('LIG_ERR_CERT_EXISTS', 'the file exists (pass --force to replace)', path);
    throw new CertError('LIG_ERR_CERT_FILE', `cannot be written (${code ?? 'error'})`, path);
  } finally {
    if (existsSync(tmp)) unlinkSync(tmp);
  }
}

/** Writes a certificate (0644) and its key (0600). The key goes first: a cert without key is useless. */
export function writePemPair(paths: PemPaths, pem: PemPair, force: boolean): void {
  writeFileSafely(paths.key, pem.key, KEY_FILE_MODE, force);
  writeFileSafely(paths.cert, pem.cert, CERT_FILE_MODE, force);
}

/** Creates `dir` (and parents) if needed. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new CertError('LIG_ERR_CERT_FILE', `the directory cannot be created (${(e as NodeJS.ErrnoException).code ?? 'error'})`, dir);
  }
}

/**
 * Reads the CA in `dir` (ca.pem, ca-key.pem) so it can sign: checked like any TLS material
 * (key matches, self-signed, valid now), and then read by forge, which handles RSA only.
 */
export function readCa(dir: string): CertificateAuthority {
  const p = caPaths(dir);
  const m = loadTlsMaterial({ ca: p.cert, cert: p.cert, key: p.key });
  try {
    return { cert: forge.pki.certificateFromPem(m.cert.toString('latin1')), key: forge.pki.privateKeyFromPem(m.key.toString('latin1')) as forge.pki.rsa.PrivateKey };
  } catch {
    throw new CertError('LIG_ERR_CERT_NOT_PEM', 'the CA must have an RSA key to sign with lig', p.key);
  }
}
