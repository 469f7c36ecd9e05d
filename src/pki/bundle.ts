/**
 * Whole sets of certificates in a directory: `initPki` makes a CA and every leaf lig needs
 * (what `lig certs init` does); `issueInto` adds one leaf signed by an existing CA (what
 * `lig certs issue` does). Everything is checked before the first key is made, and no
 * existing file is replaced unless `force`.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import forge from 'node-forge';
import { CertError } from '../errors';
import { DEFAULT_CA_DAYS, DEFAULT_LEAF_DAYS, newCa, newLeaf, resolveValidity, type PemPair } from './issue';
import { caPaths, assertAbsent, ensureDir, leafPaths, readCa, writeFileSafely, writePemPair, CERT_FILE_MODE, type PemPaths } from './files';
import { checkBits, DEFAULT_RSA_BITS } from './keys';
import { checkName, checkRole, type Role } from './roles';
import { DEFAULT_SANS, parseSans } from './san';

/** The probe `initPki` makes when no names are given. */
export const DEFAULT_PROBE_NAMES: readonly string[] = ['probe-1'];
/** The one-of-a-kind leaves every set has, named after their role. */
export const SINGLETON_ROLES: readonly Role[] = ['mediator', 'lemf', 'admin', 'auditor'];

export interface InitOptions {
  /** Where the leaves go, with a copy of ca.pem. */
  dir: string;
  /** Where the CA's certificate and key go (keep it apart to keep the CA key off servers); `dir` by default. */
  caDir?: string;
  san?: readonly string[];
  probes?: readonly string[];
  /** Leaf lifetime in days. */
  days?: number;
  /** CA lifetime in days: by default the longer of DEFAULT_CA_DAYS and `days`. */
  caDays?: number;
  bits?: number;
  force?: boolean;
}

/** A leaf written to disk. */
export interface WrittenLeaf extends PemPaths {
  role: Role;
  name: string;
  notAfter: Date;
}

export interface InitResult {
  dir: string;
  caDir: string;
  /** The CA's certificate and key, in caDir. */
  ca: PemPaths;
  /** ca.pem in `dir` (the same file as ca.cert when caDir is dir). */
  caCert: string;
  leaves: WrittenLeaf[];
  sans: string[];
}

function notAfterOf(pem: PemPair): Date {
  return new Date(new X509Certificate(pem.cert).validTo);
}

/** Makes a CA and the leaves mediator, lemf, admin, auditor and one per probe, and writes them. */
export async function initPki(opts: InitOptions): Promise<InitResult> {
  const dir = resolve(opts.dir);
  const caDir = resolve(opts.caDir ?? opts.dir);
  const force = opts.force ?? false;
  const bits = checkBits(opts.bits ?? DEFAULT_RSA_BITS);
  const sans = parseSans(opts.san ?? DEFAULT_SANS).map((s) => s.value);
  const days = opts.days ?? DEFAULT_LEAF_DAYS;
  resolveValidity({ days }, DEFAULT_LEAF_DAYS);
  const caDays = opts.caDays ?? Math.max(DEFAULT_CA_DAYS, days);
  resolveValidity({ days: caDays }, DEFAULT_CA_DAYS);
  const wanted: Array<{ role: Role; name: string }> = [
    ...SINGLETON_ROLES.map((role) => ({ role, name: role })),
    ...(opts.probes ?? DEFAULT_PROBE_NAMES).map((name) => ({ role: 'probe' as const, name: checkName(name) })),
  ];
  const names = new Set<string>();
  for (const w of wanted) {
    if (names.has(w.name.toLowerCase())) throw new CertError('LIG_ERR_CERT_OPTIONS', `name "${w.name}" is given twice (or is a role's own name)`);
    names.add(w.name.toLowerCase());
  }
  const ca = caPaths(caDir);
  const caCert = caPaths(dir).cert;
  const files = [ca.cert, ca.key, ...(caCert === ca.cert ? [] : [caCert]), ...wanted.flatMap((w) => Object.values(leafPaths(dir, w.name)))];
  assertAbsent(files, force);

  const made = await newCa({ days: caDays, bits });
  const pems = await Promise.all(wanted.map((w) => newLeaf(made.ca, { ...w, san: sans, days, bits })));
  ensureDir(caDir);
  ensureDir(dir);
  writePemPair(ca, made.pem, force);
  if (caCert !== ca.cert) writeFileSafely(caCert, made.pem.cert, CERT_FILE_MODE, force);
  const leaves = wanted.map((w, i) => {
    const paths = leafPaths(dir, w.name);
    writePemPair(paths, pems[i]!, force);
    return { ...w, ...paths, notAfter: notAfterOf(pems[i]!) };
  });
  return { dir, caDir, ca, caCert, leaves, sans };
}

export interface IssueIntoOptions {
  /** Where the leaf goes. */
  dir: string;
  /** Where the signing CA (ca.pem, ca-key.pem) is; `dir` by default. */
  caDir?: string;
  role: Role;
  /** Required for probes; the role's name otherwise. */
  name?: string;
  san?: readonly string[];
  days?: number;
  bits?: number;
  force?: boolean;
}

/** Whether the file at `path` holds the certificate `pem` (false if it cannot be read). */
function sameCertificate(path: string, pem: string): boolean {
  try {
    return new X509Certificate(readFileSync(path)).fingerprint256 === new X509Certificate(pem).fingerprint256;
  } catch {
    return false;
  }
}

/** Issues one leaf from the CA in `caDir` into `dir` (adding ca.pem there if it lacks one). */
export async function issueInto(opts: IssueIntoOptions): Promise<WrittenLeaf & { caCert: string }> {
  const dir = resolve(opts.dir);
  const caDir = resolve(opts.caDir ?? opts.dir);
  const role = checkRole(opts.role);
  if (role === 'probe' && opts.name === undefined) throw new CertError('LIG_ERR_CERT_OPTIONS', 'a probe certificate needs a name (its probe id)');
  const name = checkName(opts.name ?? role);
  const bits = checkBits(opts.bits ?? DEFAULT_RSA_BITS);
  const paths = leafPaths(dir, name);
  assertAbsent([paths.cert, paths.key], opts.force ?? false);
  const ca = readCa(caDir);
  const caPem = forge.pki.certificateToPem(ca.cert);
  const caCert = caPaths(dir).cert;
  const copyCa = caCert !== caPaths(caDir).cert && !existsSync(caCert);
  if (caCert !== caPaths(caDir).cert && !copyCa && !sameCertificate(caCert, caPem)) {
    throw new CertError('LIG_ERR_CERT_OPTIONS', `holds another CA than ${caPaths(caDir).cert} (or cannot be read): a leaf from that CA would not verify against it`, caCert);
  }
  const pem = await newLeaf(ca, { role, name, san: opts.san, days: opts.days, bits });
  ensureDir(dir);
  if (copyCa) writeFileSafely(caCert, caPem, CERT_FILE_MODE, false);
  writePemPair(paths, pem, opts.force ?? false);
  return { role, name, ...paths, notAfter: notAfterOf(pem), caCert };
}
