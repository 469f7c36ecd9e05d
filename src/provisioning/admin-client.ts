/**
 * A client of the mediator's admin API (AdminService, proto/lig/v1/admin.proto), over
 * mutually authenticated TLS: what the `lig warrant|agency|probe list|audit` commands use.
 *
 * The mediator is verified like any lig peer (its chain to lig's CA, the name it is dialled
 * by or tls.servername, and the mediator role: pki checkMediatorIdentity). Requests and
 * answers are the generated proto types; a failed call rejects with an AdminError whose code
 * is the lig code the mediator sent (`lig-error-code`), so the CLI prints the same code the
 * server raised; LIG_ERR_ADMIN_UNAVAILABLE when the mediator cannot be reached.
 */
import { Metadata, credentials, status as Status, type CallOptions, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type { Endpoint } from '../config';
import { AdminError, ERROR_CODES, type LigErrorCode } from '../errors';
import {
  AdminServiceClient,
  type Agency,
  type AuditAnchor,
  type AuditLogResponse,
  type CreateWarrantRequest,
  type ListAgenciesResponse,
  type ListProbesResponse,
  type ListWarrantsRequest,
  type ListWarrantsResponse,
  type ModifyWarrantRequest,
  type Probe,
  type Warrant,
} from '../gen/lig/v1/admin';
import { LIG_ERROR_CODE_KEY } from '../mediation/status';
import { bindAddress } from '../mediation/mtls-server';
import { checkMediatorIdentity, loadTlsMaterial, type TlsMaterial, type TlsMaterialPaths } from '../pki';

/** How long one call may take, connection included, before it fails with DEADLINE_EXCEEDED. */
export const ADMIN_CALL_TIMEOUT_MS = 30_000;
/** Most audit log bytes the client accepts (a larger log is refused rather than held in memory). */
export const MAX_AUDIT_LOG_BYTES = 1024 * 2 ** 20;

export interface AdminClientOptions {
  /** The mediator's admin listener. */
  address: Endpoint;
  /** lig's CA and this client's certificate and key (an admin or auditor certificate). */
  tls: (TlsMaterialPaths | TlsMaterial) & { servername?: string };
  timeoutMs?: number;
}

/** The audit log as the mediator holds it: its raw bytes, and the anchor its database keeps. */
export interface AuditLogCopy {
  text: Buffer;
  anchor: AuditAnchor | undefined;
}

export class AdminClient {
  private readonly client: AdminServiceClient;
  private readonly timeoutMs: number;

  private constructor(client: AdminServiceClient, timeoutMs: number) {
    this.client = client;
    this.timeoutMs = timeoutMs;
  }

  /** Checks the TLS material (loadTlsMaterial) and makes the channel; connects on the first call. */
  static open(opts: AdminClientOptions): AdminClient {
    const { servername, ...rest } = opts.tls;
    const tls = 'leaf' in rest ? (rest as TlsMaterial) : loadTlsMaterial(rest as TlsMaterialPaths);
    const creds = credentials.createSsl(tls.ca, tls.key, tls.cert, { checkServerIdentity: checkMediatorIdentity });
    const client = new AdminServiceClient(bindAddress(opts.address), creds, {
      'grpc.enable_retries': 0,
      ...(servername ? { 'grpc.ssl_target_name_override': servername, 'grpc.default_authority': servername } : {}),
    });
    return new AdminClient(client, opts.timeoutMs ?? ADMIN_CALL_TIMEOUT_MS);
  }

  async createWarrant(request: CreateWarrantRequest): Promise<Warrant> {
    return warrantOf(await this.unary((cb) => this.client.createWarrant(request, new Metadata(), this.options(), cb)));
  }

  async activateWarrant(id: bigint): Promise<Warrant> {
    return warrantOf(await this.unary((cb) => this.client.activateWarrant({ id }, new Metadata(), this.options(), cb)));
  }

  async modifyWarrant(request: ModifyWarrantRequest): Promise<Warrant> {
    return warrantOf(await this.unary((cb) => this.client.modifyWarrant(request, new Metadata(), this.options(), cb)));
  }

  async stopWarrant(id: bigint, reason?: string): Promise<Warrant> {
    return warrantOf(await this.unary((cb) => this.client.stopWarrant({ id, reason }, new Metadata(), this.options(), cb)));
  }

  async listWarrants(request: Partial<ListWarrantsRequest> = {}): Promise<Warrant[]> {
    const r = await this.unary<ListWarrantsResponse>((cb) => this.client.listWarrants({ state: 0, agency: '', ...request }, new Metadata(), this.options(), cb));
    return r.warrants;
  }

  async getWarrant(id: bigint): Promise<Warrant> {
    return warrantOf(await this.unary((cb) => this.client.getWarrant({ id }, new Metadata(), this.options(), cb)));
  }

  async listAgencies(): Promise<Agency[]> {
    return (await this.unary<ListAgenciesResponse>((cb) => this.client.listAgencies({}, new Metadata(), this.options(), cb))).agencies;
  }

  async listProbes(): Promise<Probe[]> {
    return (await this.unary<ListProbesResponse>((cb) => this.client.listProbes({}, new Metadata(), this.options(), cb))).probes;
  }

  /** The whole audit log and its anchor. */
  auditLog(): Promise<AuditLogCopy> {
    return new Promise((resolve, reject) => {
      const stream: ClientReadableStream<AuditLogResponse> = this.client.auditLog({}, new Metadata(), this.options());
      const chunks: Buffer[] = [];
      let bytes = 0;
      let anchor: AuditAnchor | undefined;
      stream.on('data', (m: AuditLogResponse) => {
        if (m.body?.$case === 'chunk') {
          bytes += m.body.chunk.length;
          if (bytes > MAX_AUDIT_LOG_BYTES) {
            stream.cancel();
            reject(new AdminError('LIG_ERR_ADMIN_FAILED', `the audit log is larger than MAX_AUDIT_LOG_BYTES (${MAX_AUDIT_LOG_BYTES}); verify it on the mediator with --file`));
            return;
          }
          chunks.push(Buffer.from(m.body.chunk));
        } else if (m.body?.$case === 'anchor') {
          anchor = m.body.anchor;
        }
      });
      stream.on('error', (e: ServiceError) => reject(callError(e)));
      stream.on('end', () => resolve({ text: Buffer.concat(chunks), anchor }));
    });
  }

  close(): void {
    this.client.close();
  }

  private options(): Partial<CallOptions> {
    return { deadline: Date.now() + this.timeoutMs };
  }

  private unary<T>(call: (cb: (err: ServiceError | null, res: T) => void) => unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      call((err, res) => (err ? reject(callError(err)) : resolve(res)));
    });
  }
}

function warrantOf(r: { warrant?: Warrant | undefined }): Warrant {
  if (!r.warrant) throw new AdminError('LIG_ERR_ADMIN_FAILED', 'the mediator answered without a warrant');
  return r.warrant;
}

/** A failed call as an AdminError: the mediator's lig code when it sent one it is known to have. */
export function callError(e: ServiceError): AdminError {
  const remote = e.metadata?.get(LIG_ERROR_CODE_KEY)[0];
  const remoteCode = typeof remote === 'string' ? remote : undefined;
  const grpcCode = typeof e.code === 'number' ? e.code : undefined;
  const details = e.details || e.message;
  if (remoteCode !== undefined && remoteCode in ERROR_CODES) {
    return new AdminError(remoteCode as LigErrorCode, details, { grpcCode, remoteCode });
  }
  const name = grpcCode === undefined ? 'error' : Status[grpcCode] ?? String(grpcCode);
  if (grpcCode === Status.UNAVAILABLE || grpcCode === Status.DEADLINE_EXCEEDED) {
    return new AdminError('LIG_ERR_ADMIN_UNAVAILABLE', `the admin API cannot be reached: ${name}: ${details}`, { grpcCode, remoteCode });
  }
  return new AdminError('LIG_ERR_ADMIN_FAILED', `${name}: ${details}`, { grpcCode, remoteCode });
}
