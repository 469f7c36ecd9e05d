/**
 * `lig certs init|issue`: make the certificates every lig link authenticates with.
 *
 *   lig certs init  --dir DIR [--ca-dir CADIR] [--san NAME-OR-IP ...] [--probe NAME ...] [--days N] [--bits N] [--force]
 *   lig certs issue --dir DIR --role ROLE [--name NAME] [--ca-dir CADIR] [--san ...] [--days N] [--bits N] [--force]
 *
 * Prints the paths it wrote, never key contents.
 */
import { UsageError } from '../errors';
import { initPki, issueInto } from '../pki/bundle';
import { DEFAULT_LEAF_DAYS } from '../pki/issue';
import { DEFAULT_RSA_BITS } from '../pki/keys';
import { ROLES, isRole } from '../pki/roles';
import { DEFAULT_SANS } from '../pki/san';
import { flagHelp, need, parseArgs, str, type FlagSpec, type Parsed } from './args';
import type { Command, Io } from './command';

const COMMON: Record<string, FlagSpec> = {
  dir: { value: true, help: 'directory to write certificates and keys to (required)' },
  'ca-dir': { value: true, help: 'directory of the CA certificate and key (default: --dir)' },
  san: { value: true, multiple: true, help: `DNS name or IP for subjectAltName, repeatable (default: ${DEFAULT_SANS.join(' ')})` },
  days: { value: true, help: `leaf validity in days (default: ${DEFAULT_LEAF_DAYS})` },
  bits: { value: true, help: `RSA key size (default: ${DEFAULT_RSA_BITS})` },
  force: { help: 'replace existing keys and certificates' },
  help: { help: 'show this help' },
};

const INIT: Record<string, FlagSpec> = {
  ...COMMON,
  'ca-dir': { value: true, help: 'write the CA key here instead of --dir (keep it off servers)' },
  probe: { value: true, multiple: true, help: 'name of a probe certificate, repeatable (default: probe-1)' },
};

const ISSUE: Record<string, FlagSpec> = {
  ...COMMON,
  role: { value: true, help: `role of the new certificate: ${ROLES.join(', ')} (required)` },
  name: { value: true, help: 'its name (CN and file name): required for probes, else the role' },
};

const USAGE = [
  'usage: lig certs init  --dir DIR [options]   make a CA and the mediator, lemf, admin, auditor and probe certificates',
  '       lig certs issue --dir DIR --role ROLE [--name NAME] [options]   add one certificate signed by the CA in DIR',
].join('\n');

function int(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(v)) throw new UsageError(`--${name} must be a whole number`);
  return Number(v);
}

function list(p: Parsed, name: string): string[] | undefined {
  const v = p.flags[name];
  if (!Array.isArray(v)) return undefined;
  return v.flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x.length > 0);
}

function noPositionals(p: Parsed): void {
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument "${p.positionals[0]}"`);
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

async function init(argv: string[], io: Io): Promise<number> {
  const p = parseArgs(argv, INIT);
  if (p.flags['help']) {
    io.out(`usage: lig certs init --dir DIR [options]\n\n${flagHelp(INIT)}`);
    return 0;
  }
  noPositionals(p);
  const r = await initPki({
    dir: need(p, 'dir'),
    caDir: str(p, 'ca-dir'),
    san: list(p, 'san'),
    probes: list(p, 'probe'),
    days: int(p, 'days'),
    bits: int(p, 'bits'),
    force: p.flags['force'] === true,
  });
  io.out(`wrote a new CA and ${r.leaves.length} certificates:`);
  io.out(`  ${'CA'.padEnd(12)} ${r.ca.cert}  key ${r.ca.key} (mode 0600)`);
  if (r.caCert !== r.ca.cert) io.out(`  ${'CA (copy)'.padEnd(12)} ${r.caCert}`);
  for (const l of r.leaves) io.out(`  ${`${l.role === 'probe' ? 'probe ' : ''}${l.name}`.padEnd(12)} ${l.cert}  key ${l.key} (mode 0600)`);
  io.out(`subjectAltNames: ${r.sans.join(', ')}; leaves valid until ${day(r.leaves[0]!.notAfter)}`);
  if (r.caDir === r.dir) io.out(`note: ${r.ca.key} signs new certificates; keep it off the servers (see --ca-dir)`);
  return 0;
}

async function issue(argv: string[], io: Io): Promise<number> {
  const p = parseArgs(argv, ISSUE);
  if (p.flags['help']) {
    io.out(`usage: lig certs issue --dir DIR --role ROLE [--name NAME] [options]\n\n${flagHelp(ISSUE)}`);
    return 0;
  }
  noPositionals(p);
  const role = str(p, 'role');
  if (role === undefined || !isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const r = await issueInto({
    dir: need(p, 'dir'),
    caDir: str(p, 'ca-dir'),
    role,
    name: str(p, 'name'),
    san: list(p, 'san'),
    days: int(p, 'days'),
    bits: int(p, 'bits'),
    force: p.flags['force'] === true,
  });
  io.out(`wrote ${r.role} certificate "${r.name}", valid until ${day(r.notAfter)}:`);
  io.out(`  ${r.cert}  key ${r.key} (mode 0600)`);
  return 0;
}

export const command: Command = {
  summary: 'make a CA and certificates (init), or add one (issue)',
  run: async (argv, io) => {
    const [sub, ...rest] = argv;
    if (sub === 'init') return init(rest, io);
    if (sub === 'issue') return issue(rest, io);
    if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
      io.out(USAGE);
      return sub === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown certs command "${sub}"\n${USAGE}`);
  },
};
