/** BER tag classes (X.690 8.1.2.2), as the two high bits of the identifier octet. */
export const TagClass = {
  Universal: 0,
  Application: 1,
  Context: 2,
  Private: 3,
} as const;
export type TagClass = (typeof TagClass)[keyof typeof TagClass];

/** Universal tag numbers lig uses (X.680 8.4). */
export const UNIVERSAL = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OBJECT_IDENTIFIER: 6,
  ENUMERATED: 10,
  UTF8String: 12,
  RELATIVE_OID: 13,
  SEQUENCE: 16,
  SET: 17,
  PrintableString: 19,
  IA5String: 22,
  UTCTime: 23,
  GeneralizedTime: 24,
} as const;

/**
 * Deepest nesting the reader accepts. A PS-PDU with an IPIRI and location is about 12 deep;
 * the margin is for peers' extensions. Override per call with `ReadLimits.maxDepth`.
 */
export const DEFAULT_MAX_DEPTH = 64;

/**
 * Largest element (and so PDU) the reader accepts, in bytes. A CC PDU carries at most one
 * jumbo frame plus headers; IRI with raw AAA data stays far below. Override with
 * `ReadLimits.maxPduBytes` for a peer that aggregates many payloads in one PDU.
 */
export const DEFAULT_MAX_PDU_BYTES = 1 << 20;

/**
 * Most elements one PDU may hold. Size alone does not bound the work: a 1 MiB PDU of empty
 * elements is half a million nodes. A PS-PDU of one IRI holds a few hundred at most; the
 * margin is for aggregated payloads (clause 6.2.3). Override with `ReadLimits.maxElements`.
 */
export const DEFAULT_MAX_ELEMENTS = 16384;

/** Limits the reader enforces; each breach raises its own typed error. */
export interface ReadLimits {
  maxDepth: number;
  maxPduBytes: number;
  /** Default DEFAULT_MAX_ELEMENTS. */
  maxElements?: number;
}

export const DEFAULT_LIMITS: Readonly<ReadLimits> = Object.freeze({
  maxDepth: DEFAULT_MAX_DEPTH,
  maxPduBytes: DEFAULT_MAX_PDU_BYTES,
  maxElements: DEFAULT_MAX_ELEMENTS,
});
