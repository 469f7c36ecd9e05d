/**
 * Loading an agency's TLS files before the first connection, so a bad file is one precise
 * error at start-up. Unlike a lig-internal link, the two sides may have different CAs: `ca`
 * issued the agency's certificate, while `cert` (the mediator's) may come from the
 * operator's CA, so the mediator's chain is not checked against `ca` here. What is checked:
 * every file reads and is PEM of the right kind, the CA file holds only CAs, the key belongs
 * to the certificate, and the certificate is valid now. Messages name files, never key bytes.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CertError } from '../errors';
import { checkValidity, describe, parseCertificates } from '../pki/load';

export interface AgencyTlsPaths {
  ca: string;
  cert: string;
  key: string;
}

/** The PEM bytes, checked, ready for tls.connect. */
export interface AgencyTlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'is not readable (permission denied)' : `cannot be read (${code ?? 'error'})`;
    throw new CertError('LIG_ERR_CERT_FILE', `the ${what} file ${why}`, path);
  }
}

function parseKey(pem: Buffer, path: string): KeyObject {
  const text = pem.toString('latin1');
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new CertError('LIG_ERR_CERT_NOT_PEM', 'the key file is encrypted; lig needs an unencrypted key (protect it with file permissions)', path);
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new CertError('LIG_ERR_CERT_NOT_PEM', 'the key file holds no PEM private key that parses', path);
  }
}

export function loadAgencyTls(paths: AgencyTlsPaths, now: Date = new Date()): AgencyTlsMaterial {
  const ca = readPem(paths.ca, 'CA');
  const cert = readPem(paths.cert, 'certificate');
  const key = readPem(paths.key, 'key');
  for (const c of parseCertificates(ca, paths.ca, 'CA')) {
    if (!c.ca) throw new CertError('LIG_ERR_CERT_NOT_CA', `certificate ${describe(c)} in the CA file is not a CA`, paths.ca);
  }
  const leaf = parseCertificates(cert, paths.cert, 'certificate')[0]!;
  if (!leaf.checkPrivateKey(parseKey(key, paths.key))) {
    throw new CertError('LIG_ERR_CERT_KEY_MISMATCH', `the key does not belong to certificate ${describe(leaf)} in ${paths.cert}`, paths.key);
  }
  checkValidity(leaf, now, paths.cert);
  return { ca, cert, key };
}
