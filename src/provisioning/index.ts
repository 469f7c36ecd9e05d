/**
 * Provisioning: the warrant model, the warrant store (SQLite) and the hash-chained audit log.
 * The admin API and the mediator use these; see warrant-store.ts for how a change and its
 * audit entry are written together, audit-chain.ts for the log's format.
 */
export * from './types';
export { AuditLog, AUDIT_LOG_FILE, AUDIT_READ_CHUNK_BYTES, MAX_AUDIT_ACTION_LENGTH, MAX_AUDIT_ACTOR_LENGTH, MAX_AUDIT_SUBJECT_LENGTH, auditLogPath, verifyAuditFile } from './audit-log';
export type { AnchorSink, AuditAppend, AuditHead } from './audit-log';
export { AuditVerifier, GENESIS_PREV, MAX_AUDIT_ENTRY_BYTES, MAX_AUDIT_VALUE_DEPTH, canonicalJson, verifyAudit } from './audit-chain';
export type { VerifierOptions, VerifyFrom } from './audit-chain';
export { DATABASE_BUSY_TIMEOUT_MS, DATABASE_FILE, databasePath, openDatabase, schemaVersion } from './db';
export { MIGRATIONS } from './migrations';
export type { Migration } from './migrations';
export { MAX_ACTOR_NAME_LENGTH, MEDIATOR_ACTOR, WarrantStore } from './warrant-store';
export type { WarrantStoreOptions } from './warrant-store';
export { warrantFromJson, warrantToJson } from './warrant-rows';
export {
  COMPLIANCE_FIELDS,
  INTERCEPT_TYPES,
  LIID_PATTERN,
  MAX_COMPLIANCE_FIELD_LENGTH,
  MAX_LIID_LENGTH,
  MAX_PROBE_NAME_LENGTH,
  MAX_STOP_REASON_LENGTH,
  MAX_TARGET_VALUE_LENGTH,
  MAX_WARRANT_PROBES,
  MAX_WARRANT_TARGETS,
  validateStopReason,
  validateWarrantChange,
  validateWarrantSpec,
} from './warrant-validate';
export type { WarrantProblem } from './warrant-validate';
