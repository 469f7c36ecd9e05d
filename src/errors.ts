/**
 * Every error lig raises on purpose, one class per failure a user can act on.
 *
 * Each has a stable `code` (match on it, never on the message) and the catalogue below says
 * in one line what to do about it. gRPC statuses are mapped from these codes in exactly one
 * place (see mediation/). Messages never carry key material or warrant identifiers.
 */

/** The catalogue: code → what the user should do. One line each. */
export const ERROR_CODES = {
  // --- BER (src/ber) -----------------------------------------------------------------
  LIG_ERR_BER_TRUNCATED: 'The input ends inside an element: the stream was cut; wait for more bytes or discard it.',
  LIG_ERR_BER_BAD_TAG: 'A tag is malformed (unterminated or over-long high tag number): the input is not BER.',
  LIG_ERR_BER_BAD_LENGTH: 'A length is malformed or indefinite: handover uses definite lengths only.',
  LIG_ERR_BER_TOO_DEEP: 'Nesting exceeds the depth limit: raise maxDepth only if a trusted peer needs it.',
  LIG_ERR_BER_TOO_LARGE: 'An element or PDU exceeds the size limit: raise maxPduBytes only for a trusted peer.',
  LIG_ERR_BER_BAD_VALUE: 'A primitive value is malformed for its type (INTEGER, OID, time, string).',
  LIG_ERR_BER_UNEXPECTED: 'An element has a tag the schema does not allow here: the PDU does not match the ASN.1.',
  LIG_ERR_BER_MISSING: 'A mandatory component is absent: the PDU does not match the ASN.1.',
  LIG_ERR_BER_RANGE: 'A value is out of the range the ASN.1 allows; fix the input value.',
  // --- ETSI records (src/etsi) ---------------------------------------------------------
  LIG_ERR_ETSI_INVALID: 'A handover record cannot be built from these inputs; the message names the field.',
  // --- configuration ---------------------------------------------------------------------
  LIG_ERR_CONFIG: 'The configuration is invalid; the message names the field and what it expects.',
  // --- CLI -------------------------------------------------------------------------------
  LIG_ERR_USAGE: 'The command line is wrong; run `lig help` for usage.',
} as const;

export type LigErrorCode = keyof typeof ERROR_CODES;

/** Base class of every lig error. `code` is stable; `hint` is the catalogue's advice. */
export class LigError extends Error {
  readonly code: LigErrorCode;
  constructor(code: LigErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
  get hint(): string {
    return ERROR_CODES[this.code];
  }
}

/** Malformed or over-limit BER. `offset` is the byte offset in the input where it was found. */
export class BerError extends LigError {
  /** Byte offset in the input; undefined for errors found while encoding. */
  readonly offset: number | undefined;
  constructor(code: LigErrorCode, message: string, offset?: number) {
    super(code, offset === undefined ? message : `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** A record could not be built: the inputs break a rule of the ASN.1 or of lig's profile. */
export class EtsiError extends LigError {
  constructor(message: string) {
    super('LIG_ERR_ETSI_INVALID', message);
  }
}

/** A configuration value is wrong; `path` names the field, e.g. `agencies[0].hi2`. */
export class ConfigError extends LigError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('LIG_ERR_CONFIG', `${path}: ${message}`);
    this.path = path;
  }
}

/** The command line could not be understood. */
export class UsageError extends LigError {
  constructor(message: string) {
    super('LIG_ERR_USAGE', message);
  }
}

export function isLigError(e: unknown): e is LigError {
  return e instanceof LigError;
}
