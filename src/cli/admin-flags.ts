/**
 * The flags every admin API command shares (`lig warrant`, `lig agency list`, `lig probe
 * list`, `lig audit verify`): where the mediator's admin listener is, and the client
 * certificate to call it with, either as three files or as a directory `lig certs init`
 * wrote plus a name:
 *
 *   --admin HOST:PORT  (default DEFAULT_ADMIN_ADDRESS, the admin.listen of examples/lig.yaml)
 *   --ca CA.pem --cert NAME.pem --key NAME-key.pem
 *   --certs DIR [--name NAME]   (DIR/ca.pem, DIR/NAME.pem, DIR/NAME-key.pem; NAME default admin)
 *   --servername NAME  (the name expected in the mediator's certificate; default the HOST)
 */
import { parseHostPort } from '../config';
import { UsageError } from '../errors';
import { caPaths, leafPaths } from '../pki';
import { NAME_PATTERN } from '../pki/roles';
import { AdminClient } from '../provisioning/admin-client';
import { type FlagSpec, type Parsed, str } from './args';

/** Where `lig warrant …` looks for the admin API unless told (examples/lig.yaml admin.listen). */
export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:50052';
/** The certificate name used with --certs when --name is not given. */
export const DEFAULT_ADMIN_NAME = 'admin';

export const ADMIN_FLAGS: Record<string, FlagSpec> = {
  admin: { value: true, help: `the mediator's admin API, HOST:PORT (default ${DEFAULT_ADMIN_ADDRESS})` },
  certs: { value: true, help: 'directory with ca.pem and NAME.pem / NAME-key.pem (as `lig certs init` writes it)' },
  name: { value: true, help: `with --certs: the certificate to use (default ${DEFAULT_ADMIN_NAME}; an auditor certificate may only read)` },
  ca: { value: true, help: 'the CA that issued the mediator\'s certificate (PEM), instead of --certs' },
  cert: { value: true, help: 'your admin or auditor certificate (PEM), instead of --certs' },
  key: { value: true, help: 'its private key (PEM), instead of --certs' },
  servername: { value: true, help: 'the name expected in the mediator\'s certificate (default: the HOST of --admin)' },
};

/** The CA, certificate and key paths the flags name. */
export function adminTlsPaths(p: Parsed): { ca: string; cert: string; key: string } {
  const dir = str(p, 'certs');
  const files = (['ca', 'cert', 'key'] as const).filter((f) => str(p, f) !== undefined);
  if (dir !== undefined) {
    if (files.length > 0) throw new UsageError(`--${files[0]} cannot be combined with --certs: give either --certs DIR [--name NAME] or --ca, --cert and --key`);
    const name = str(p, 'name') ?? DEFAULT_ADMIN_NAME;
    if (!NAME_PATTERN.test(name)) throw new UsageError('--name must be a certificate name (letters, digits, ".", "_", "-")');
    const leaf = leafPaths(dir, name);
    return { ca: caPaths(dir).cert, cert: leaf.cert, key: leaf.key };
  }
  if (str(p, 'name') !== undefined) throw new UsageError('--name goes with --certs DIR');
  if (files.length !== 3) throw new UsageError('give the client certificate: --certs DIR [--name NAME], or --ca, --cert and --key');
  return { ca: str(p, 'ca')!, cert: str(p, 'cert')!, key: str(p, 'key')! };
}

/** An AdminClient for the flags (the TLS files are read and checked now; nothing is dialled yet). */
export function adminClient(p: Parsed): AdminClient {
  const text = str(p, 'admin') ?? DEFAULT_ADMIN_ADDRESS;
  const address = parseHostPort(text);
  if (typeof address === 'string') throw new UsageError(`--admin: ${address}`);
  const servername = str(p, 'servername');
  return AdminClient.open({ address, tls: { ...adminTlsPaths(p), ...(servername ? { servername } : {}) } });
}

/** Runs `fn` with a client for the flags, and closes it after. */
export async function withAdminClient<T>(p: Parsed, fn: (client: AdminClient) => Promise<T>): Promise<T> {
  const client = adminClient(p);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
