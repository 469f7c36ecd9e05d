/**
 * The TLS adapter: the only way lig connects to an agency. Mutual authentication always:
 * it presents the mediator's certificate, verifies the agency's chain against the configured
 * CA only (not the system store) and checks that the certificate names the expected host
 * (tls.servername, else the address's host). TLS 1.3 unless TLS 1.2 is configured. There is
 * no option that turns verification off, and no plaintext fallback.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { Endpoint } from '../config';
import { ConfigError, DeliveryError, LigErrorCode } from '../errors';
import { Connection, MAX_IN_FLIGHT_BYTES, Transport } from './transport';

/** Time allowed for TCP connect plus TLS handshake. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Longest message text kept from a Node or OpenSSL error. */
const MAX_CAUSE_TEXT = 300;

export interface TlsTransportOptions {
  address: Endpoint;
  /** PEM: the CA certificate(s) that issue the agency's certificate. Nothing else is trusted. */
  ca: Buffer | string;
  /** PEM: the mediator's certificate (chain) and its key. */
  cert: Buffer | string;
  key: Buffer | string;
  /** The name the agency's certificate must carry; the address's host by default. */
  servername?: string;
  minVersion?: 'TLSv1.3' | 'TLSv1.2';
  connectTimeoutMs?: number;
  /** Buffered bytes at which write() returns false. */
  highWaterMark?: number;
}

export class TlsTransport implements Transport {
  readonly remote: string;
  /** The host name or IP address the agency's certificate must match. */
  readonly expectedName: string;
  private readonly o: Required<Omit<TlsTransportOptions, 'servername'>>;

  constructor(opts: TlsTransportOptions) {
    for (const k of ['ca', 'cert', 'key'] as const) {
      const v = opts[k];
      if (!(typeof v === 'string' || Buffer.isBuffer(v)) || v.length === 0) throw new ConfigError(`tls.${k}`, 'must be PEM text (a non-empty string or Buffer)');
    }
    const minVersion = opts.minVersion ?? 'TLSv1.3';
    if (minVersion !== 'TLSv1.3' && minVersion !== 'TLSv1.2') throw new ConfigError('tls.minVersion', 'must be TLSv1.3 or TLSv1.2');
    if (opts.servername !== undefined && (typeof opts.servername !== 'string' || opts.servername === '')) throw new ConfigError('tls.servername', 'must be a non-empty name');
    const { host, port } = opts.address;
    this.remote = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
    this.expectedName = opts.servername ?? host;
    this.o = {
      address: { host, port },
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      minVersion,
      connectTimeoutMs: opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      highWaterMark: opts.highWaterMark ?? MAX_IN_FLIGHT_BYTES,
    };
  }

  connect(signal?: AbortSignal): Promise<Connection> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const expected = this.expectedName;
      // highWaterMark is honoured by Node 20's tls.connect (it reaches the socket) but is missing from its types
      const options: tls.ConnectionOptions & { highWaterMark: number } = {
        host: this.o.address.host,
        port: this.o.address.port,
        ca: this.o.ca,
        cert: this.o.cert,
        key: this.o.key,
        // SNI carries DNS names only (RFC 6066); an IP is still checked against the IP SANs
        servername: isIP(expected) ? undefined : expected,
        minVersion: this.o.minVersion,
        maxVersion: 'TLSv1.3',
        rejectUnauthorized: true,
        checkServerIdentity: (_host, cert) => tls.checkServerIdentity(expected, cert),
        highWaterMark: this.o.highWaterMark,
      };
      const socket = tls.connect(options);
      let settled = false;
      const timer = setTimeout(() => {
        fail(new DeliveryError('LIG_ERR_DELIVERY_CONNECT', `${this.remote}: no TLS session within ${this.o.connectTimeoutMs} ms`, { peerCode: 'ETIMEDOUT' }));
      }, this.o.connectTimeoutMs);
      const onAbort = () => fail(signal!.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const fail = (e: Error) => {
        if (settled) return;
        cleanup();
        socket.on('error', () => undefined);
        socket.destroy();
        reject(e);
      };
      const onError = (e: Error) => fail(deliveryErrorOf(e, this.remote, 'connect'));
      const onClose = () => fail(new DeliveryError('LIG_ERR_DELIVERY_CONNECT', `${this.remote}: the connection closed during the TLS handshake`));
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.once('secureConnect', () => {
        if (settled) return;
        if (!socket.authorized) {
          // unreachable with rejectUnauthorized, kept so that a change there cannot pass silently
          fail(new DeliveryError('LIG_ERR_DELIVERY_UNTRUSTED', `${this.remote}: the agency certificate was not verified`));
          return;
        }
        cleanup();
        socket.setNoDelay(true);
        resolve(new TlsConnection(socket, this.remote));
      });
    });
  }
}

/** An established TLS connection, seen through the Connection interface. */
class TlsConnection extends EventEmitter implements Connection {
  constructor(
    private readonly socket: tls.TLSSocket,
    readonly remote: string,
  ) {
    super();
    socket.on('data', (d: Buffer) => this.emit('data', d));
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', (e: Error) => this.emit('error', deliveryErrorOf(e, remote, 'established')));
    socket.on('close', () => this.emit('close'));
  }

  write(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Certificate verification failures (OpenSSL's X509_V_ERR names, as Node reports them). */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_CA',
  'INVALID_PURPOSE',
]);

/** Maps a socket or TLS error to a DeliveryError with a stable code; keeps the original as cause. */
export function deliveryErrorOf(e: unknown, remote: string, phase: 'connect' | 'established'): DeliveryError {
  if (e instanceof DeliveryError) return e;
  const err = e as NodeJS.ErrnoException & { library?: string };
  const peerCode = typeof err?.code === 'string' ? err.code : undefined;
  const text = String(err?.message ?? e).replace(/\s+/g, ' ').trim().slice(0, MAX_CAUSE_TEXT);
  let code: LigErrorCode;
  let what: string;
  if (peerCode === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    code = 'LIG_ERR_DELIVERY_IDENTITY';
    what = 'the agency certificate does not name the expected host';
  } else if (peerCode !== undefined && UNTRUSTED_CODES.has(peerCode)) {
    code = 'LIG_ERR_DELIVERY_UNTRUSTED';
    what = 'the agency certificate is not trusted';
  } else if ((peerCode !== undefined && /^ERR_(SSL|TLS)_/.test(peerCode)) || err?.library === 'SSL routines') {
    code = 'LIG_ERR_DELIVERY_TLS';
    what = 'TLS failed';
  } else if (phase === 'connect') {
    code = 'LIG_ERR_DELIVERY_CONNECT';
    what = 'cannot connect';
  } else {
    code = 'LIG_ERR_DELIVERY_CLOSED';
    what = 'the connection failed';
  }
  return new DeliveryError(code, `${remote}: ${what}: ${text}${peerCode ? ` (${peerCode})` : ''}`, { cause: e, peerCode });
}
