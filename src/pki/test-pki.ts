/**
 * Ready-made certificate sets for tests and `lig demo`: a complete set in a directory, an
 * unrelated CA, and leaves that are expired or not yet valid, for the refusal tests. Keys are
 * small (MIN_RSA_BITS) unless told otherwise, because tests make many.
 */
import { resolve } from 'node:path';
import { ensureDir, leafPaths, readCa, writePemPair, caPaths, type PemPaths } from './files';
import { initPki } from './bundle';
import { newCa, newLeaf, type Validity } from './issue';
import { MIN_RSA_BITS } from './keys';
import type { Role } from './roles';

/** Paths of a complete set; `probe` is the first of `probes`. */
export interface TestPki {
  dir: string;
  /** ca.pem */
  ca: string;
  /** ca-key.pem */
  caKey: string;
  mediator: PemPaths;
  lemf: PemPaths;
  admin: PemPaths;
  auditor: PemPaths;
  probe: PemPaths;
  probes: Record<string, PemPaths>;
}

export interface TestPkiOptions {
  /** Probe names; ['probe-1'] by default. */
  probes?: string[];
  san?: string[];
  days?: number;
  bits?: number;
}

/** Writes a CA and the mediator, lemf, admin, auditor and probe leaves to `dir`. */
export async function makeTestPki(dir: string, opts: TestPkiOptions = {}): Promise<TestPki> {
  const r = await initPki({ dir, probes: opts.probes, san: opts.san, days: opts.days, bits: opts.bits ?? MIN_RSA_BITS });
  const byName = (name: string): PemPaths => {
    const l = r.leaves.find((x) => x.name === name)!;
    return { cert: l.cert, key: l.key };
  };
  const probes = Object.fromEntries(r.leaves.filter((l) => l.role === 'probe').map((l) => [l.name, byName(l.name)]));
  return {
    dir: r.dir,
    ca: r.ca.cert,
    caKey: r.ca.key,
    mediator: byName('mediator'),
    lemf: byName('lemf'),
    admin: byName('admin'),
    auditor: byName('auditor'),
    probe: Object.values(probes)[0]!,
    probes,
  };
}

export interface ExtraLeafOptions {
  role?: Role;
  /** File and CN name; by default "expired" (makeExpiredLeaf) or "foreign" (makeForeignPki). */
  name?: string;
  san?: string[];
  bits?: number;
}

/** A new CA unrelated to any other, with one leaf (a probe by default), in `dir`. */
export async function makeForeignPki(dir: string, opts: ExtraLeafOptions & { commonName?: string } = {}): Promise<{ dir: string; ca: string; caKey: string; leaf: PemPaths }> {
  const abs = resolve(dir);
  const bits = opts.bits ?? MIN_RSA_BITS;
  const made = await newCa({ bits, commonName: opts.commonName });
  const role = opts.role ?? 'probe';
  const name = opts.name ?? 'foreign';
  const pem = await newLeaf(made.ca, { role, name, san: opts.san, bits });
  ensureDir(abs);
  const ca = caPaths(abs);
  writePemPair(ca, made.pem, false);
  const leaf = leafPaths(abs, name);
  writePemPair(leaf, pem, false);
  return { dir: abs, ca: ca.cert, caKey: ca.key, leaf };
}

/** A leaf from the CA in `caDir` with the validity given (in `outDir`, caDir by default). */
export async function makeLeafWithValidity(caDir: string, validity: Validity, opts: ExtraLeafOptions & { outDir?: string } = {}): Promise<PemPaths> {
  const ca = readCa(caDir);
  const name = opts.name ?? 'leaf';
  const pem = await newLeaf(ca, { role: opts.role ?? 'probe', name, san: opts.san, bits: opts.bits ?? MIN_RSA_BITS, ...validity });
  const out = resolve(opts.outDir ?? caDir);
  ensureDir(out);
  const paths = leafPaths(out, name);
  writePemPair(paths, pem, false);
  return paths;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A leaf from the CA in `caDir` that expired yesterday (valid the day before). */
export function makeExpiredLeaf(caDir: string, opts: ExtraLeafOptions & { outDir?: string } = {}): Promise<PemPaths> {
  const now = Date.now();
  return makeLeafWithValidity(caDir, { notBefore: new Date(now - 2 * DAY_MS), notAfter: new Date(now - DAY_MS) }, { ...opts, name: opts.name ?? 'expired' });
}

/** A leaf from the CA in `caDir` that becomes valid tomorrow. */
export function makeNotYetValidLeaf(caDir: string, opts: ExtraLeafOptions & { outDir?: string } = {}): Promise<PemPaths> {
  const now = Date.now();
  return makeLeafWithValidity(caDir, { notBefore: new Date(now + DAY_MS), notAfter: new Date(now + 2 * DAY_MS) }, { ...opts, name: opts.name ?? 'not-yet-valid' });
}
