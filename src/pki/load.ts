/**
 * Loading the TLS material a lig process runs with (CA, certificate, key) and checking it
 * before any socket is opened, so a bad file is one precise error at start-up rather than
 * an obscure handshake failure later.
 *
 * Messages name files and certificate subjects, never key material: the key file's content
 * is not quoted, and errors from parsing it are not attached.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CertError } from '../errors';

/** Paths of the three PEM files. `ca` may hold several CA certificates (e.g. during a rotation). */
export interface TlsMaterialPaths {
  ca: string;
  cert: string;
  key: string;
}

/** Checked material: the PEM bytes as read (for tls.createSecureContext or gRPC credentials). */
export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** The first certificate of the cert file: this process's own certificate. */
  leaf: X509Certificate;
  /** The CA certificate that issued the chain. */
  issuer: X509Certificate;
  paths: TlsMaterialPaths;
}

export interface LoadOptions {
  /** The time to check validity at; now by default. */
  now?: Date;
}

/** Most certificates accepted in one PEM file. */
export const MAX_PEM_CERTIFICATES = 100;

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'is not readable (permission denied)' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'error'})`;
    throw new CertError('LIG_ERR_CERT_FILE', `the ${what} file ${why}`, path);
  }
}

/** Every certificate in a PEM file, in order. */
export function parseCertificates(pem: Buffer, path: string, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) throw new CertError('LIG_ERR_CERT_NOT_PEM', `the ${what} file holds no PEM certificate`, path);
  if (blocks.length > MAX_PEM_CERTIFICATES) throw new CertError('LIG_ERR_CERT_NOT_PEM', `the ${what} file holds more than ${MAX_PEM_CERTIFICATES} certificates`, path);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch {
      throw new CertError('LIG_ERR_CERT_NOT_PEM', `certificate #${i + 1} in the ${what} file is not a valid X.509 certificate`, path);
    }
  });
}

function parseKey(pem: Buffer, path: string): KeyObject {
  const text = pem.toString('latin1');
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new CertError('LIG_ERR_CERT_NOT_PEM', 'the key file is encrypted; lig needs an unencrypted key (protect it with file permissions)', path);
  }
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(text)) {
    throw new CertError('LIG_ERR_CERT_NOT_PEM', 'the key file holds no PEM private key', path);
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new CertError('LIG_ERR_CERT_NOT_PEM', 'the key file holds a PEM private key that does not parse', path);
  }
}

/** "CN=x" of a certificate, for messages. */
export function describe(cert: X509Certificate): string {
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1];
  return cn === undefined ? `"${cert.subject.replace(/\n/g, ', ')}"` : `"CN=${cn}"`;
}

/** Throws EXPIRED or NOT_YET_VALID if `cert` is not valid at `now`. */
export function checkValidity(cert: X509Certificate, now: Date, path: string): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now.getTime() > to.getTime()) {
    throw new CertError('LIG_ERR_CERT_EXPIRED', `certificate ${describe(cert)} expired on ${to.toISOString()}`, path);
  }
  if (now.getTime() < from.getTime()) {
    throw new CertError('LIG_ERR_CERT_NOT_YET_VALID', `certificate ${describe(cert)} is not valid until ${from.toISOString()}`, path);
  }
}

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

/**
 * Reads and checks CA, certificate and key: each file exists and is PEM of the right kind;
 * every certificate in the CA file is a CA; the key belongs to the (first) certificate; the
 * certificate chains (through any intermediates that follow it in its file) to a CA in the
 * CA file; and every certificate on that path is valid now.
 */
export function loadTlsMaterial(paths: TlsMaterialPaths, opts: LoadOptions = {}): TlsMaterial {
  const now = opts.now ?? new Date();
  const caPem = readPem(paths.ca, 'CA');
  const certPem = readPem(paths.cert, 'certificate');
  const keyPem = readPem(paths.key, 'key');
  const cas = parseCertificates(caPem, paths.ca, 'CA');
  const chain = parseCertificates(certPem, paths.cert, 'certificate');
  const key = parseKey(keyPem, paths.key);
  for (const ca of cas) {
    if (!ca.ca) throw new CertError('LIG_ERR_CERT_NOT_CA', `certificate ${describe(ca)} in the CA file is not a CA`, paths.ca);
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) {
    throw new CertError('LIG_ERR_CERT_KEY_MISMATCH', `the key does not belong to certificate ${describe(leaf)} in ${paths.cert}`, paths.key);
  }
  // Walk up from the leaf through the intermediates in the cert file to a CA in the CA file.
  const path: X509Certificate[] = [leaf];
  let issuer: X509Certificate | undefined;
  for (;;) {
    const top = path[path.length - 1]!;
    issuer = cas.find((ca) => signedBy(top, ca));
    if (issuer) break;
    const next = chain.slice(1).find((c) => !path.includes(c) && signedBy(top, c));
    if (!next) {
      throw new CertError('LIG_ERR_CERT_UNTRUSTED', `certificate ${describe(leaf)} was not issued by ${cas.length === 1 ? `the CA ${describe(cas[0]!)}` : 'any CA'} in ${paths.ca}`, paths.cert);
    }
    path.push(next);
  }
  for (const c of path) checkValidity(c, now, paths.cert);
  checkValidity(issuer, now, paths.ca);
  return { ca: caPem, cert: certPem, key: keyPem, leaf, issuer, paths: { ...paths } };
}
