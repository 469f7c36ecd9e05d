/**
 * The parts a certificate can play in lig, and the TLS usages each is issued with.
 *
 * The role is written into the certificate subject as OU, and the name (a probe id, or the
 * role itself for singletons) as CN, so that a server can tell who is calling from the peer
 * certificate alone (see identity.ts). Only lig's own CA issues these, so the OU is trusted
 * exactly as far as that CA is.
 */
import { CertError } from '../errors';

export const ROLES = ['mediator', 'probe', 'lemf', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Extended key usages per role: the mediator is a server to probes and a client to agencies. */
export const ROLE_USAGE: Readonly<Record<Role, { serverAuth: boolean; clientAuth: boolean }>> = {
  mediator: { serverAuth: true, clientAuth: true },
  probe: { serverAuth: false, clientAuth: true },
  lemf: { serverAuth: true, clientAuth: false },
  admin: { serverAuth: false, clientAuth: true },
  auditor: { serverAuth: false, clientAuth: true },
};

/** Organisation written in every subject lig issues. */
export const SUBJECT_ORGANIZATION = 'lig';

/** A certificate name (CN) doubles as a file name (DIR/<name>.pem), so it is kept plain. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/** Checks a leaf name: plain, and not one that would collide with the CA's or a key's file. */
export function checkName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new CertError('LIG_ERR_CERT_OPTIONS', `name "${name}" must be 1-64 letters, digits, ".", "_" or "-", not starting with a punctuation mark`);
  }
  if (name.toLowerCase() === 'ca' || /-key$/i.test(name)) {
    throw new CertError('LIG_ERR_CERT_OPTIONS', `name "${name}" is reserved: its files would collide with ca.pem or a key file`);
  }
  return name;
}

export function checkRole(role: string): Role {
  if (!isRole(role)) throw new CertError('LIG_ERR_CERT_OPTIONS', `role "${role}" is not one of ${ROLES.join(', ')}`);
  return role;
}
