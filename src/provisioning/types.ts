/**
 * The warrant model and the contracts between the warrant store, the audit log, the admin
 * API and the mediator. Types only: the store (warrant-store.ts), the audit log
 * (audit-log.ts) and the admin service (admin-service.ts) implement them.
 *
 * A warrant is the operator's record of one court order as lig executes it: what to
 * intercept (LIID, agency, type, targets), when (start and end time), and the compliance
 * record US rules ask for (47 CFR 1.20004: who presented the order, under which authority,
 * which employee is responsible). Its life: pending (created, nothing intercepted) → active
 * (an explicit activation by a named operator) → stopped (by an operator) or expired (its
 * end time passed). Stopped and expired are final. Creation never activates.
 *
 * LIIDs and targets are sensitive: never log them above debug level.
 */
import type { InterceptReports } from '../config/mediator';
import type { Target } from '../config/targets';

export type WarrantState = 'pending' | 'active' | 'stopped' | 'expired';
export const WARRANT_STATES: readonly WarrantState[] = ['pending', 'active', 'stopped', 'expired'];

export type InterceptType = 'content' | 'iri-only';

/** The compliance record of the order (47 CFR 1.20004(a)). Every field is required. */
export interface ComplianceRecord {
  /** The order's docket or reference number. */
  orderReference: string;
  /** The issuing authority or judge. */
  issuingAuthority: string;
  /** The law-enforcement officer who presented the order. */
  presentingOfficer: string;
  /** The operator's employee responsible for the interception. */
  responsibleEmployee: string;
}

/** What an operator gives to create a warrant. */
export interface WarrantSpec {
  /** Lawful interception identifier, 1..25 characters, unique per agency for ever. */
  liid: string;
  /** An agency id from the mediator's config. */
  agency: string;
  /** Authorization country, ISO 3166-1 alpha-2 (e.g. "US"). */
  country: string;
  type: InterceptType;
  /** At least one. */
  targets: Target[];
  /** Nothing is delivered before this time. Default: as soon as it is activated. */
  startTime?: Date;
  /** Nothing is delivered after this time; the warrant then expires. Required: orders end. */
  endTime: Date;
  compliance: ComplianceRecord;
  /** Probes that watch for it (certificate names); absent: all probes. */
  probes?: string[];
  /**
   * How the target's packets are reported (TS 102 232-3 clause 6.2.5), as the config's
   * `reports` of an intercept: iri-only warrants only. Absent in a spec: DEFAULT_REPORT_MODE
   * every DEFAULT_SUMMARY_INTERVAL; a stored iri-only warrant always has it, a content one never.
   */
  reports?: InterceptReports;
}

/** The fields `modify` may change (absent: unchanged). LIID, agency and type never change. */
export interface WarrantChange {
  targets?: Target[];
  startTime?: Date;
  endTime?: Date;
  compliance?: Partial<ComplianceRecord>;
  /** null: all probes. */
  probes?: string[] | null;
  /** iri-only warrants only; an absent mode or interval stays as it is. */
  reports?: Partial<InterceptReports>;
}

/** A stored warrant. */
export interface Warrant extends WarrantSpec {
  /** The store's number for it, from 1; what the CLI and the API name it by. */
  id: number;
  state: WarrantState;
  /** Bumped by every change (optimistic concurrency for modify). */
  version: number;
  createdAt: Date;
  createdBy: string;
  activatedAt?: Date;
  activatedBy?: string;
  /** When it stopped or expired, and who stopped it (absent for expiry). */
  endedAt?: Date;
  endedBy?: string;
  /** Why an operator stopped it, as given to `stop` (absent when none was given, and for expiry). */
  endReason?: string;
}

/** The operator behind a change: the certificate name and role of the admin client. */
export interface Actor {
  name: string;
  role: 'admin' | 'auditor' | 'mediator';
}

/** True when the warrant must be intercepted at `now`: active and inside its time window. */
export function isInForce(w: Warrant, now: Date): boolean {
  if (w.state !== 'active') return false;
  if (w.startTime && now.getTime() < w.startTime.getTime()) return false;
  return now.getTime() < w.endTime.getTime();
}

/**
 * The audit actions of warrant changes. Only the warrant store records them (AuditLog.append
 * refuses them), since the store rolls them forward into the database when it opens.
 */
export const WARRANT_AUDIT_ACTIONS = ['warrant.create', 'warrant.activate', 'warrant.modify', 'warrant.stop', 'warrant.expire'] as const;

/** One audit entry as written (see audit-log.ts for the chaining). */
export interface AuditEntry {
  /** 1, 2, 3, … without gaps. */
  seq: number;
  /** ISO 8601 UTC, millisecond precision. */
  time: string;
  /** Certificate name of who did it ("mediator" for the system itself). */
  actor: string;
  role: Actor['role'];
  /** e.g. "warrant.create", "warrant.activate", "warrant.modify", "warrant.stop",
   * "warrant.expire", "delivery.start", "delivery.stop", "tls.refused", "mediator.start". */
  action: string;
  /** What it is about, e.g. "warrant/3", "agency/fbi", "peer/<certificate name>". */
  subject: string;
  /** State before and after (for warrant changes: the warrant as JSON); absent when n/a. */
  before?: unknown;
  after?: unknown;
  /** Hex SHA-256 of the previous entry's line ("0"×64 for the first). */
  prev: string;
  /** Hex SHA-256 of this entry's canonical form (every field but `hash`). */
  hash: string;
}

/**
 * Where the audit log must reach, kept in the warrant database (table audit_head): the seq
 * and `hash` of the last entry the database has seen. A log that ends before it was cut.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

/** Why an audit log does not verify. */
export type AuditFailure = 'altered' | 'removed' | 'reordered' | 'truncated' | 'malformed';

/**
 * The outcome of verifying an audit log. On failure `entry` names the first bad entry by its
 * position, which is the seq it holds in an intact log (line N holds seq N); `message` says
 * what is wrong without quoting the entry. On success `head` is the last entry (absent for an
 * empty log) and `beyondAnchor` how many entries follow the anchor, when one was given.
 */
export type AuditVerifyResult =
  | { ok: true; entries: number; head?: AuditAnchor; beyondAnchor?: number }
  | { ok: false; entry: number; reason: AuditFailure; message: string };
