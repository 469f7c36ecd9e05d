/**
 * Who is on the other end of a TLS connection: the name (CN: a probe's id, or the role's own
 * name) and role (OU) lig wrote into the certificate it issued. The gRPC ingest server uses it
 * to tell probes apart; the admin API to tell admins from auditors.
 *
 * Only meaningful for a certificate the TLS layer has already verified against lig's CA:
 * identityOf reads, it does not verify.
 */
import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { CertError } from '../errors';
import { isRole, NAME_PATTERN, type Role } from './roles';

export interface Identity {
  /** The subject CN: the probe id for probes, else usually the role. */
  name: string;
  role: Role;
}

/** What tls.TLSSocket#getPeerCertificate() returns: its subject is enough here. */
export type PeerCertificateLike = Pick<PeerCertificate, 'subject'> | Record<string, never>;

/**
 * The identity in a certificate given as a peer certificate object (from node:tls or gRPC),
 * an X509Certificate, PEM text or DER bytes. Throws LIG_ERR_CERT_IDENTITY when there is no
 * certificate, or it lacks exactly one valid CN and exactly one known OU.
 */
export function identityOf(cert: PeerCertificateLike | X509Certificate | string | Buffer | null | undefined): Identity {
  const subject = subjectOf(cert);
  const cn = single(subject?.['CN'], 'CN');
  const ou = single(subject?.['OU'], 'OU');
  if (!NAME_PATTERN.test(cn)) throw new CertError('LIG_ERR_CERT_IDENTITY', 'the peer certificate CN is not a valid lig name');
  if (!isRole(ou)) throw new CertError('LIG_ERR_CERT_IDENTITY', 'the peer certificate OU is not a lig role');
  return { name: cn, role: ou };
}

/**
 * For a TLS client's checkServerIdentity: the server's certificate names the host dialled (or
 * the servername given) and carries the mediator role. Probes and admin clients dial only
 * the mediator, so any other lig certificate there is refused.
 */
export function checkMediatorIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const err = checkServerIdentity(host, cert);
  if (err) return err;
  try {
    const id = identityOf(cert);
    if (id.role !== 'mediator') return new Error(`the server certificate is a ${id.role} certificate, not the mediator's`);
  } catch (e) {
    return e as Error;
  }
  return undefined;
}

type Subject = Record<string, string | string[] | undefined>;

function subjectOf(cert: PeerCertificateLike | X509Certificate | string | Buffer | null | undefined): Subject | undefined {
  if (cert === null || cert === undefined) throw new CertError('LIG_ERR_CERT_IDENTITY', 'the peer sent no certificate');
  if (typeof cert === 'string' || Buffer.isBuffer(cert)) {
    try {
      cert = new X509Certificate(cert);
    } catch {
      throw new CertError('LIG_ERR_CERT_NOT_PEM', 'the certificate does not parse (PEM or DER expected)');
    }
  }
  if (cert instanceof X509Certificate) return cert.toLegacyObject().subject as unknown as Subject;
  // getPeerCertificate() returns {} when the peer sent no certificate.
  if (!('subject' in cert) || cert.subject === undefined) throw new CertError('LIG_ERR_CERT_IDENTITY', 'the peer sent no certificate');
  return cert.subject as unknown as Subject;
}

function single(v: string | string[] | undefined, field: string): string {
  if (v === undefined) throw new CertError('LIG_ERR_CERT_IDENTITY', `the peer certificate has no ${field}`);
  if (Array.isArray(v)) {
    if (v.length !== 1) throw new CertError('LIG_ERR_CERT_IDENTITY', `the peer certificate has ${v.length} ${field} values; lig expects one`);
    return v[0]!;
  }
  return v;
}
