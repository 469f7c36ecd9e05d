/** Delivery to agencies: links over TLS per agency and interface, on top of the journal. */
export { Delivery, tlsTransportFor, type DeliveryOptions } from './delivery';
export {
  DeliveryLink,
  CONFIRM_EVERY_RECORDS,
  CONFIRM_EVERY_BYTES,
  MAX_OUTSTANDING_REQUESTS,
  type LinkOptions,
  type LinkState,
  type LinkStatus,
} from './link';
export type { DeliveryJournal, LinkCounters, SessionTuning } from './session';
export { MAX_IN_FLIGHT_BYTES, type Connection, type ConnectionEvents, type Transport } from './transport';
export { TlsTransport, CONNECT_TIMEOUT_MS, deliveryErrorOf, type TlsTransportOptions } from './tls-transport';
export { MemoryTransport, MemoryConnection, memoryPair, type MemoryConnectionOptions } from './memory-transport';
export { Backoff, INITIAL_BACKOFF_MS, MAX_BACKOFF_MS, type BackoffOptions } from './backoff';
export { systemClock, type Clock, type TimerHandle } from './clock';
export { KEEPALIVE_LIID, MAX_INCOMING_PDU_BYTES, SEQUENCE_MODULO, triContext, type Hi, type LinkAgency } from './tri';
export { loadAgencyTls, type AgencyTlsMaterial, type AgencyTlsPaths } from './agency-tls';
