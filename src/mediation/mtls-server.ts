/**
 * What every gRPC server of the mediator shares (probe ingest, the admin API): it listens on
 * mutually authenticated TLS only, with lig's CA, and a caller is whoever its certificate
 * says it is (CN name, OU role: pki/identity.ts), never what it sends.
 *
 * A client without a certificate from that CA never reaches a handler: the TLS handshake
 * refuses it. What a handler sees is a verified certificate, whose identity callerOf() reads.
 */
import { type Server, ServerCredentials, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Endpoint } from '../config';
import type { LigError } from '../errors';
import { identityOf, loadTlsMaterial, type Identity, type TlsMaterial, type TlsMaterialPaths } from '../pki';

/** The material as given, or loaded and checked from its paths (loadTlsMaterial). */
export function serverTls(tls: TlsMaterialPaths | TlsMaterial): TlsMaterial {
  return 'leaf' in tls ? tls : loadTlsMaterial(tls);
}

/** "HOST:PORT" as gRPC wants it to bind (an IPv6 host in brackets). */
export function bindAddress(listen: Endpoint): string {
  return `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
}

/**
 * Binds `server` to `listen` with TLS that requires a client certificate issued by tls.ca,
 * and resolves with the port (the one picked when listen.port is 0). On failure the server
 * is shut down and the promise rejects with `listenError(message, cause)`.
 */
export async function listenMtls(
  server: Server,
  listen: Endpoint,
  tls: TlsMaterial,
  listenError: (message: string, cause: Error) => LigError,
): Promise<number> {
  const creds = ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
  const address = bindAddress(listen);
  try {
    return await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, creds, (err, port) => (err ? reject(listenError(`cannot listen on ${address}: ${err.message}`, err)) : resolve(port))),
    );
  } catch (e) {
    server.forceShutdown();
    throw e;
  }
}

/** The identity in the caller's (already verified) certificate; throws LIG_ERR_CERT_IDENTITY when it has none. */
export function callerOf(call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>): Identity {
  return identityOf(call.getAuthContext().sslPeerCertificate);
}
