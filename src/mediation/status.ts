/**
 * lig errors as gRPC statuses: the one place where ingest and admin failures become
 * protocol data.
 *
 * Every refusal of the ingest server is a typed error (IngestError, or whatever the mediator
 * core rejected accept() with), and so is every failed admin call (AdminError, WarrantError,
 * the store's and the audit log's errors); toStatus() turns it into the status the client
 * receives, with the lig code in trailing metadata (`lig-error-code`) so the probe can log
 * what happened and the CLI can print it.
 *
 * One limit is enforced below this layer on purpose: a message over limits.maxMessageBytes is
 * refused by grpc-js from its length prefix (grpc.max_receive_message_length), before its
 * bytes are buffered, with RESOURCE_EXHAUSTED — the status this table gives size limits.
 */
import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import { isLigError, type LigErrorCode } from '../errors';

/** Trailing metadata key carrying the lig error code of a failed stream. */
export const LIG_ERROR_CODE_KEY = 'lig-error-code';

/** Details sent for an error that is not a lig error: nothing of it leaves the process. */
export const INTERNAL_DETAILS = 'internal error in the mediator';

/** lig code → gRPC status. Codes not listed here (and non-lig errors) map to INTERNAL. */
export const STATUS_OF: Readonly<Partial<Record<LigErrorCode, Status>>> = {
  LIG_ERR_INGEST_MALFORMED: Status.INVALID_ARGUMENT,
  LIG_ERR_INGEST_BATCH_ORDER: Status.INVALID_ARGUMENT,
  LIG_ERR_INGEST_TOO_LARGE: Status.RESOURCE_EXHAUSTED,
  LIG_ERR_INGEST_BATCH_REPLAY: Status.FAILED_PRECONDITION,
  LIG_ERR_INGEST_NOT_PROBE: Status.PERMISSION_DENIED,
  LIG_ERR_CERT_IDENTITY: Status.UNAUTHENTICATED,
  LIG_ERR_INGEST_REPLACED: Status.ABORTED,
  LIG_ERR_INGEST_UNAVAILABLE: Status.UNAVAILABLE,
  // What the mediator core may reject accept() with.
  LIG_ERR_JOURNAL_FULL: Status.RESOURCE_EXHAUSTED,
  LIG_ERR_JOURNAL_IO: Status.UNAVAILABLE,
  LIG_ERR_JOURNAL_CLOSED: Status.UNAVAILABLE,
  LIG_ERR_ETSI_INVALID: Status.INVALID_ARGUMENT,
  LIG_ERR_ETSI_TOO_LARGE: Status.RESOURCE_EXHAUSTED,
  // The admin API (provisioning/admin-service.ts) and what the warrant store and audit log raise.
  LIG_ERR_ADMIN_DENIED: Status.PERMISSION_DENIED,
  LIG_ERR_ADMIN_REQUEST: Status.INVALID_ARGUMENT,
  LIG_ERR_WARRANT_INVALID: Status.INVALID_ARGUMENT,
  LIG_ERR_WARRANT_NOT_FOUND: Status.NOT_FOUND,
  LIG_ERR_WARRANT_STATE: Status.FAILED_PRECONDITION,
  LIG_ERR_WARRANT_CONFLICT: Status.ALREADY_EXISTS,
  LIG_ERR_WARRANT_FORBIDDEN: Status.PERMISSION_DENIED,
  LIG_ERR_STORE_IO: Status.UNAVAILABLE,
  LIG_ERR_STORE_CLOSED: Status.UNAVAILABLE,
  LIG_ERR_AUDIT_IO: Status.UNAVAILABLE,
  LIG_ERR_AUDIT_BROKEN: Status.DATA_LOSS,
  LIG_ERR_MEDIATION_IO: Status.UNAVAILABLE,
  LIG_ERR_MEDIATION_STATE: Status.INTERNAL,
  LIG_ERR_MEDIATION_FAILED: Status.UNAVAILABLE,
};

/** The status a stream ends with for error `e`. */
export function toStatus(e: unknown): StatusObject {
  const metadata = new Metadata();
  if (!isLigError(e)) return { code: Status.INTERNAL, details: INTERNAL_DETAILS, metadata };
  metadata.set(LIG_ERROR_CODE_KEY, e.code);
  return { code: STATUS_OF[e.code] ?? Status.INTERNAL, details: e.message, metadata };
}
