/**
 * Making lig's X.509 certificates with node-forge: a self-signed CA, and leaves it signs.
 *
 * Every certificate is X.509 v3, SHA-256 with RSA, with a random positive 16-byte serial and
 * subjectKeyIdentifier; leaves also carry authorityKeyIdentifier (the CA's key id), CA:false,
 * digitalSignature + keyEncipherment, the extended key usages of their role (roles.ts) and
 * subjectAltNames (san.ts). Nothing here touches the file system: see files.ts and bundle.ts.
 */
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { CertError } from '../errors';
import { generateRsaKeyPair, privateKeyToPem, type KeyPair } from './keys';
import { ROLE_USAGE, SUBJECT_ORGANIZATION, checkName, checkRole, type Role } from './roles';
import { DEFAULT_SANS, parseSans } from './san';

/** CA lifetime unless told otherwise: ten years. */
export const DEFAULT_CA_DAYS = 3650;
/** Leaf lifetime unless told otherwise: 825 days, the longest clients commonly accept. */
export const DEFAULT_LEAF_DAYS = 825;
/** Longest lifetime accepted, in days. */
export const MAX_DAYS = 36500;
/** notBefore is set this far in the past so that a peer whose clock is a little behind accepts it. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Bytes of randomness in a serial number (RFC 5280 allows up to 20 octets). */
export const SERIAL_BYTES = 16;

const DAY_MS = 24 * 60 * 60 * 1000;
// @types/node-forge types valueTagClass as asn1.Class; forge reads it as an asn1.Type.
const UTF8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class;

/** A CA that can sign: its certificate and private key. */
export interface CertificateAuthority {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

/** A certificate and its private key, both PEM. */
export interface PemPair {
  cert: string;
  key: string;
}

/** Lifetime: `notBefore`/`notAfter` win over `days` (tests use them to make expired certs). */
export interface Validity {
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
}

export interface CaOptions extends Validity {
  /** Subject CN; by default "lig CA" plus a random tag, so two CAs never share a name. */
  commonName?: string;
}

export interface LeafOptions extends Validity {
  role: Role;
  /** Subject CN and file name: a probe's id; defaults to the role for the other roles. */
  name?: string;
  /** DNS names and IP addresses; DEFAULT_SANS when absent. */
  san?: readonly string[];
}

/** A random, positive serial of SERIAL_BYTES bytes, as forge wants it (hex), in minimal DER form. */
export function randomSerial(): string {
  const b = randomBytes(SERIAL_BYTES);
  b[0] = (b[0]! & 0x7f) | 0x40; // positive, and no leading zero octet
  return b.toString('hex');
}

/** Resolves a Validity to concrete dates, checking them. */
export function resolveValidity(v: Validity, defaultDays: number, now = Date.now()): { notBefore: Date; notAfter: Date } {
  const days = v.days ?? defaultDays;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
    throw new CertError('LIG_ERR_CERT_OPTIONS', `validity of ${days} days must be a whole number from 1 to ${MAX_DAYS}`);
  }
  const notBefore = v.notBefore ?? new Date(now - CLOCK_SKEW_MS);
  const notAfter = v.notAfter ?? new Date(now + days * DAY_MS);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw new CertError('LIG_ERR_CERT_OPTIONS', 'notBefore and notAfter must be valid dates');
  }
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new CertError('LIG_ERR_CERT_OPTIONS', 'notAfter must be later than notBefore');
  }
  return { notBefore, notAfter };
}

function subject(attrs: Array<[string, string]>): forge.pki.CertificateField[] {
  return attrs.map(([name, value]) => ({ name, value, valueTagClass: UTF8 }));
}

/** Makes a self-signed CA certificate for `keys`. */
export function createCa(keys: KeyPair, opts: CaOptions = {}): CertificateAuthority {
  const cert = forge.pki.createCertificate();
  const { notBefore, notAfter } = resolveValidity(opts, DEFAULT_CA_DAYS);
  const cn = opts.commonName ?? `lig CA ${randomBytes(4).toString('hex')}`;
  if (cn.length < 1 || cn.length > 64) throw new CertError('LIG_ERR_CERT_OPTIONS', 'the CA common name must be 1-64 characters');
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const name = subject([
    ['organizationName', SUBJECT_ORGANIZATION],
    ['commonName', cn],
  ]);
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey };
}

/** The CA's key identifier: its subjectKeyIdentifier if it has one, else computed as forge does. */
function caKeyId(ca: forge.pki.Certificate): string {
  const ski = ca.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return ski?.subjectKeyIdentifier ? forge.util.hexToBytes(ski.subjectKeyIdentifier) : ca.generateSubjectKeyIdentifier().getBytes();
}

/**
 * Issues a leaf for `publicKey`, signed by `ca`. Its notAfter is cut to the CA's, so a leaf
 * never outlives the CA that vouches for it.
 */
export function issueLeaf(ca: CertificateAuthority, publicKey: forge.pki.rsa.PublicKey, opts: LeafOptions): forge.pki.Certificate {
  const role = checkRole(opts.role);
  const name = checkName(opts.name ?? role);
  const sans = parseSans(opts.san ?? DEFAULT_SANS);
  const v = resolveValidity(opts, DEFAULT_LEAF_DAYS);
  const caNotAfter = ca.cert.validity.notAfter;
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = v.notBefore;
  cert.validity.notAfter = v.notAfter.getTime() > caNotAfter.getTime() ? new Date(caNotAfter.getTime()) : v.notAfter;
  if (cert.validity.notAfter.getTime() <= cert.validity.notBefore.getTime()) {
    throw new CertError('LIG_ERR_CERT_OPTIONS', 'the leaf would end before it starts: the CA expires too soon');
  }
  cert.setSubject(
    subject([
      ['organizationName', SUBJECT_ORGANIZATION],
      ['organizationalUnitName', role],
      ['commonName', name],
    ]),
  );
  cert.setIssuer(ca.cert.subject.attributes);
  const usage = ROLE_USAGE[role];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: usage.serverAuth, clientAuth: usage.clientAuth },
    {
      name: 'subjectAltName',
      altNames: sans.map((s) => (s.type === 'ip' ? { type: 7, value: s.bytes.toString('binary') } : { type: 2, value: s.value })),
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caKeyId(ca.cert) },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return cert;
}

/** Makes a CA with a fresh key: the CA (to sign with) and its PEM files' contents. */
export async function newCa(opts: CaOptions & { bits?: number } = {}): Promise<{ ca: CertificateAuthority; pem: PemPair }> {
  const keys = await generateRsaKeyPair(opts.bits);
  const ca = createCa(keys, opts);
  return { ca, pem: { cert: forge.pki.certificateToPem(ca.cert), key: privateKeyToPem(ca.key) } };
}

/** Makes a leaf with a fresh key, signed by `ca`. */
export async function newLeaf(ca: CertificateAuthority, opts: LeafOptions & { bits?: number }): Promise<PemPair> {
  // Check the options before spending time on a key.
  checkName(opts.name ?? checkRole(opts.role));
  parseSans(opts.san ?? DEFAULT_SANS);
  resolveValidity(opts, DEFAULT_LEAF_DAYS);
  const keys = await generateRsaKeyPair(opts.bits);
  const cert = issueLeaf(ca, keys.publicKey, opts);
  return { cert: forge.pki.certificateToPem(cert), key: privateKeyToPem(keys.privateKey) };
}
