/**
 * The transport seam between delivery logic and sockets (as nats.js separates its protocol
 * from `net`/`tls`): a DeliveryLink only ever sees a Transport and the Connections it makes,
 * so its logic is tested on the in-memory pair, and the TLS adapter on real sockets.
 *
 * There is deliberately no plaintext adapter: handover leaves the mediator over mutually
 * authenticated TLS or not at all.
 */

/**
 * Most bytes a connection accepts before write() returns false (its high-water mark), so at
 * most this much handover data waits in front of a keep-alive (plus the kernel's buffer).
 */
export const MAX_IN_FLIGHT_BYTES = 256 * 1024;

/** Events of a Connection. 'error' comes (at most once) before 'close'; 'close' comes once. */
export interface ConnectionEvents {
  data: (chunk: Uint8Array) => void;
  /** Buffered bytes went below the high-water mark after write() had returned false. */
  drain: () => void;
  error: (err: Error) => void;
  close: () => void;
}

/** One established, authenticated byte stream to the agency. */
export interface Connection {
  /**
   * Queues bytes for sending (the caller may not modify them afterwards). False means the
   * buffer is at its high-water mark: write no more handover data until 'drain'.
   */
  write(bytes: Uint8Array): boolean;
  /** Closes at once (no graceful end); 'close' follows. Idempotent. */
  destroy(err?: Error): void;
  /** Where it goes, for messages: "HOST:PORT" or a test name. Never key material. */
  readonly remote: string;
  on<E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]): this;
  off<E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]): this;
}

/** Makes connections to one endpoint (one agency's HI2 or HI3 collector). */
export interface Transport {
  /** Where it connects, for state and messages. */
  readonly remote: string;
  /**
   * Resolves once the connection is established and authenticated; rejects with a
   * DeliveryError (CONNECT, TLS, UNTRUSTED, IDENTITY) otherwise, or with the signal's reason
   * when aborted.
   */
  connect(signal?: AbortSignal): Promise<Connection>;
}
