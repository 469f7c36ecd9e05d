/**
 * The mediator's admin gRPC server (AdminService): its own listener (config `admin`), mutual
 * TLS with lig's CA (mediation/mtls-server.ts, as ingest), and in front of every call the
 * role check (admin-service.ts authorize): a caller whose certificate has no lig identity, or
 * whose role may not make the call, is refused before any handler runs, and the refusal goes
 * on the audit log (coalesced: refusal-audit.ts) before the client gets its status.
 *
 * Errors become gRPC statuses in mediation/status.ts only, with the lig code in the trailing
 * metadata; an error that is not a lig error is INTERNAL with nothing of it sent.
 *
 * Events: 'refused' (refusal: Refusal) after a refusal was recorded.
 */
import { EventEmitter } from 'node:events';
import { Server, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import type { Endpoint } from '../config';
import { AdminError, isLigError } from '../errors';
import { AdminServiceService, type AuditLogRequest, type AuditLogResponse } from '../gen/lig/v1/admin';
import { callerOf, listenMtls, serverTls } from '../mediation/mtls-server';
import { toStatus } from '../mediation/status';
import type { Identity, TlsMaterial, TlsMaterialPaths } from '../pki';
import { type AdminService, authorize } from './admin-service';
import type { Refusal, RefusalAudit } from './refusal-audit';
import type { Actor, AuditAnchor } from './types';

/** How long close() lets calls finish before cutting connections. */
export const ADMIN_CLOSE_GRACE_MS = 2_000;
/** Largest request accepted (admin requests are small; a warrant is at most a few KiB). */
export const MAX_ADMIN_REQUEST_BYTES = 1024 * 1024;

export type AdminLog = (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;

export interface AdminServerOptions {
  listen: Endpoint;
  /** The mediator's CA, certificate and key (paths, checked by loadTlsMaterial, or already loaded). */
  tls: TlsMaterialPaths | TlsMaterial;
  service: AdminService;
  /** The audit log's bytes, for the AuditLog call. */
  audit: { chunks(): Iterable<Uint8Array> };
  /** The anchor the warrant database keeps (read before the log, so the log reaches it). */
  anchor(): AuditAnchor | undefined;
  refusals: RefusalAudit;
  log?: AdminLog;
}

type UnaryCalls = Exclude<keyof typeof AdminServiceService, 'auditLog'>;

export class AdminServer extends EventEmitter {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly o: AdminServerOptions,
    readonly host: string,
    readonly port: number,
  ) {
    super();
  }

  /** Loads the TLS material, binds and starts serving. */
  static async listen(o: AdminServerOptions): Promise<AdminServer> {
    const tls = serverTls(o.tls);
    const server = new Server({ 'grpc.max_receive_message_length': MAX_ADMIN_REQUEST_BYTES });
    let self: AdminServer | undefined;
    const unary = (name: UnaryCalls) => (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => self!.unary(name, call, cb);
    server.addService(AdminServiceService, {
      createWarrant: unary('createWarrant'),
      activateWarrant: unary('activateWarrant'),
      modifyWarrant: unary('modifyWarrant'),
      stopWarrant: unary('stopWarrant'),
      listWarrants: unary('listWarrants'),
      getWarrant: unary('getWarrant'),
      listAgencies: unary('listAgencies'),
      listProbes: unary('listProbes'),
      auditLog: (call: ServerWritableStream<AuditLogRequest, AuditLogResponse>) => self!.auditLog(call),
    });
    const port = await listenMtls(server, o.listen, tls, (message, cause) => new AdminError('LIG_ERR_ADMIN_LISTEN', message, { cause }));
    self = new AdminServer(server, o, o.listen.host, port);
    return self;
  }

  /** Stops taking calls; cuts connections after ADMIN_CLOSE_GRACE_MS (at once with `force`). */
  close(opts: { force?: boolean } = {}): Promise<void> {
    if (!this.closing) {
      if (opts.force) {
        this.server.forceShutdown();
        this.closing = Promise.resolve();
      } else {
        this.closing = new Promise((resolve) => {
          const timer = setTimeout(() => this.server.forceShutdown(), ADMIN_CLOSE_GRACE_MS);
          this.server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
    return this.closing;
  }

  private get log(): AdminLog {
    return this.o.log ?? (() => undefined);
  }

  private unary(name: UnaryCalls, call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>): void {
    const actor = this.admit(name, call);
    if (!actor.ok) {
      cb(toStatus(actor.error));
      return;
    }
    const handler = this.o.service[name] as (req: unknown, actor: Actor) => Promise<unknown>;
    let result: Promise<unknown>;
    try {
      result = handler.call(this.o.service, call.request, actor.actor);
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (res) => cb(null, res),
      (e: unknown) => {
        this.failed(name, actor.actor, e);
        cb(toStatus(e));
      },
    );
  }

  private auditLog(call: ServerWritableStream<AuditLogRequest, AuditLogResponse>): void {
    const fail = (e: unknown) => {
      const s = toStatus(e);
      call.emit('error', { code: s.code, details: s.details, metadata: s.metadata });
    };
    const actor = this.admit('auditLog', call);
    if (!actor.ok) return fail(actor.error);
    let chunks: Iterator<Uint8Array>;
    let anchor: AuditAnchor | undefined;
    try {
      // The anchor first: the log read after it reaches at least as far.
      anchor = this.o.anchor();
      chunks = this.o.audit.chunks()[Symbol.iterator]();
    } catch (e) {
      this.failed('auditLog', actor.actor, e);
      return fail(e);
    }
    let cancelled = false;
    call.on('cancelled', () => (cancelled = true));
    const pump = (): void => {
      while (!cancelled) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = chunks.next();
        } catch (e) {
          this.failed('auditLog', actor.actor, e);
          return fail(e);
        }
        if (next.done) {
          if (anchor) call.write({ body: { $case: 'anchor', anchor: { seq: BigInt(anchor.seq), hash: anchor.hash } } });
          call.end();
          return;
        }
        if (!call.write({ body: { $case: 'chunk', chunk: Buffer.from(next.value) } })) {
          call.once('drain', pump);
          return;
        }
      }
    };
    this.log('debug', `audit log read by ${actor.actor.name}`);
    pump();
  }

  /** The caller's actor, or why it is refused (recorded on the audit log first). */
  private admit(name: string, call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext' | 'getPeer'>): { ok: true; actor: Actor } | { ok: false; error: unknown } {
    let id: Identity | undefined;
    try {
      id = callerOf(call);
      return { ok: true, actor: authorize(id, name) };
    } catch (error) {
      const code = isLigError(error) ? error.code : 'INTERNAL';
      const refusal: Refusal = {
        action: id ? 'admin.denied' : 'tls.refused',
        peer: id?.name,
        role: id?.role,
        call: id ? name : 'admin',
        code,
        address: call.getPeer(),
      };
      this.o.refusals.refused(refusal);
      this.log('warn', `refused ${name} from ${id ? `${id.role} certificate ${id.name}` : 'a certificate without a lig identity'} at ${call.getPeer()} [${code}]`);
      this.emit('refused', refusal);
      return { ok: false, error };
    }
  }

  private failed(name: string, actor: Actor, e: unknown): void {
    if (isLigError(e)) this.log('info', `${name} by ${actor.name} refused: ${e.code}`);
    else this.log('error', `${name} by ${actor.name} failed with an internal error: ${e instanceof Error ? e.name : typeof e}`);
    if (!isLigError(e)) this.log('debug', `${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
}
