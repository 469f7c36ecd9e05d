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
  LIG_ERR_BER_TOO_MANY: 'A PDU holds more elements than the limit: raise maxElements only for a trusted peer.',
  LIG_ERR_BER_TOO_LARGE: 'An element or PDU exceeds the size limit: raise maxPduBytes only for a trusted peer.',
  LIG_ERR_BER_BAD_VALUE: 'A primitive value is malformed for its type (INTEGER, OID, time, string).',
  LIG_ERR_BER_UNEXPECTED: 'An element has a tag the schema does not allow here: the PDU does not match the ASN.1.',
  LIG_ERR_BER_MISSING: 'A mandatory component is absent: the PDU does not match the ASN.1.',
  LIG_ERR_BER_RANGE: 'A value is out of the range the ASN.1 allows; fix the input value.',
  // --- ETSI records (src/etsi) ---------------------------------------------------------
  LIG_ERR_ETSI_INVALID: 'A handover record cannot be built from these inputs; the message names the field.',
  LIG_ERR_ETSI_TOO_LARGE: 'A record would exceed a size limit (e.g. a packet over MAX_IPCC_PACKET_BYTES): truncate it, or raise the limit knowingly.',
  // --- configuration ---------------------------------------------------------------------
  LIG_ERR_CONFIG: 'The configuration is invalid; the message names the field and what it expects.',
  LIG_ERR_CONFIG_SYNTAX: 'The configuration file is not valid YAML; fix it at the line and column given.',
  LIG_ERR_CONFIG_READ: 'The configuration file cannot be read (missing, unreadable or too large): check the path.',
  // --- capture files (src/capture: pcap, pcapng) -------------------------------------------
  LIG_ERR_CAPTURE_BAD_FORMAT: 'The input is not a pcap or pcapng capture (or a variant lig does not read): convert it with editcap.',
  LIG_ERR_CAPTURE_TRUNCATED: 'The capture ends inside a header, block or packet: the file was cut; wait for more bytes or discard the tail.',
  LIG_ERR_CAPTURE_BAD_BLOCK: 'A pcapng block or pcap record header is malformed at the offset given: the file is damaged.',
  LIG_ERR_CAPTURE_BAD_INTERFACE: 'A pcapng packet names an interface no Interface Description Block defined: the file is damaged.',
  LIG_ERR_CAPTURE_TOO_LARGE: 'A packet or block exceeds the size limit: raise maxRecordBytes/maxBlockBytes only for a trusted file.',
  LIG_ERR_CAPTURE_BAD_ARGUMENT: 'A value given to the pcap writer is out of range (linktype, snaplen, timestamp, length); fix the caller.',
  // --- packet sources (src/capture: file, interface, TZSP, PacketCable CCC) ---------------
  LIG_ERR_SOURCE_OPTIONS: 'A packet source option is invalid (the message names it): fix the probe source configuration.',
  LIG_ERR_SOURCE_OPEN: 'The packet source cannot be opened (no such interface or file, no CAP_NET_RAW/root, filter refused): the message says which.',
  LIG_ERR_SOURCE_LISTEN: 'The TZSP/CCC receiver cannot bind ADDR:PORT (in use, or not a local address): choose another, or stop what holds it.',
  LIG_ERR_SOURCE_READ: 'Reading the capture file failed midway (I/O error): check the disk, then replay the file.',
  LIG_ERR_TZSP_TRUNCATED: 'A TZSP datagram ends inside its header or a tag: the sender or the network cut it; it is counted and skipped.',
  LIG_ERR_TZSP_BAD_VERSION: 'A TZSP datagram is not version 1: check what sends to the TZSP port (RouterOS sniff-tzsp or /tool sniffer streaming).',
  LIG_ERR_TZSP_BAD_TYPE: 'A TZSP datagram has an unknown type: check what sends to the TZSP port; it is counted and skipped.',
  LIG_ERR_CCC_TRUNCATED: 'A PacketCable CCC datagram is shorter than its header: check the sender (RouterOS sniff-pc) and the header form configured.',
  LIG_ERR_CCC_NOT_IP: 'A PacketCable CCC datagram does not carry an IP packet after the configured header: check the header form (4, 12 or 20 bytes).',
  LIG_ERR_CCC_AMBIGUOUS: 'A PacketCable CCC datagram fits more than one header form (auto-detection): configure the form the router sends.',
  // --- journal (src/delivery/journal) ----------------------------------------------------
  LIG_ERR_JOURNAL_CORRUPT: 'A journal file is damaged before its end (message names file and offset): restore it or move it aside knowingly.',
  LIG_ERR_JOURNAL_FULL: 'The journal reached maxBytes: wait for room (waitForRoom), let delivery confirm, or raise maxBytes.',
  LIG_ERR_JOURNAL_CLOSED: 'The journal was closed (or failed): open it again before use.',
  LIG_ERR_JOURNAL_LOCKED: 'Another live process holds this journal directory; stop it, or use another directory.',
  LIG_ERR_JOURNAL_RANGE: 'A record index is outside the journal (beyond the last record, or already released).',
  LIG_ERR_JOURNAL_BAD_RECORD: 'A record is empty or larger than MAX_RECORD_BYTES, or an append has no records.',
  LIG_ERR_JOURNAL_BAD_STATE: 'A journal state is empty or larger than MAX_STATE_BYTES: keep the state given to append() small.',
  LIG_ERR_JOURNAL_IO: 'Writing or syncing the journal failed (disk full or I/O error); fix the disk, then reopen the journal.',
  // --- certificates (src/pki) ------------------------------------------------------------
  LIG_ERR_CERT_FILE: 'A certificate or key file is missing or unreadable: check the path and permissions, or run `lig certs init`.',
  LIG_ERR_CERT_NOT_PEM: 'A file does not hold the PEM certificate or unencrypted private key expected there: check which file goes where.',
  LIG_ERR_CERT_KEY_MISMATCH: 'The private key does not belong to the certificate: give the key file issued with that certificate.',
  LIG_ERR_CERT_EXPIRED: 'A certificate has expired: issue a new one (`lig certs issue`) and restart.',
  LIG_ERR_CERT_NOT_YET_VALID: 'A certificate is not valid yet: check the system clock, or wait until its notBefore.',
  LIG_ERR_CERT_UNTRUSTED: 'The certificate was not signed by the given CA: give the CA that issued it, or issue one from this CA.',
  LIG_ERR_CERT_NOT_CA: 'The CA file holds a certificate that is not a CA (basicConstraints CA:true): give the CA certificate (ca.pem).',
  LIG_ERR_CERT_IDENTITY: 'The peer certificate carries no lig identity (CN name, OU role): issue it with `lig certs issue`.',
  LIG_ERR_CERT_EXISTS: 'Refusing to overwrite existing keys or certificates: choose another --dir, or pass --force knowingly.',
  LIG_ERR_CERT_OPTIONS: 'A certificate option is invalid (name, role, SAN, validity or key size); the message names it.',
  // --- delivery to agencies (src/delivery) ------------------------------------------------
  LIG_ERR_DELIVERY_CONNECT: 'The agency collector cannot be reached (refused, unreachable, timed out): check its hi2/hi3 address and that it listens; lig retries with backoff.',
  LIG_ERR_DELIVERY_TLS: 'The TLS handshake with the agency failed (version, alert, lig\'s certificate refused): check tls.minVersion and that the agency trusts lig\'s CA.',
  LIG_ERR_DELIVERY_UNTRUSTED: 'The agency certificate does not chain to tls.ca (or is expired): give the CA that issued it, or have the agency fix its certificate.',
  LIG_ERR_DELIVERY_IDENTITY: 'The agency certificate does not name the expected host (tls.servername, else the hi2/hi3 host): fix servername or the certificate SAN.',
  LIG_ERR_DELIVERY_KEEPALIVE_TIMEOUT: 'The agency did not answer a keep-alive (or PDU acknowledgement) within keepalive.wait: check the collector; lig reconnects and resends.',
  LIG_ERR_DELIVERY_CLOSED: 'The agency or the network closed the connection: lig reconnects and resends what the agency has not confirmed.',
  LIG_ERR_DELIVERY_PROTOCOL: 'The agency sent bytes that are not valid PS-PDUs: check the collector software; lig drops the connection and reconnects.',
  // --- file delivery (src/delivery/files) ------------------------------------------------
  LIG_ERR_FILES_IO: 'Writing delivery files failed (disk full, permissions, I/O error): fix the directory; the sink retries from its last durable state, nothing lost or doubled.',
  LIG_ERR_FILES_STATE: 'The files directory disagrees with its state (DIR/.lig/state.json damaged, an open .part file or a journal removed): restore them, or move DIR/.lig aside knowingly.',
  LIG_ERR_FILES_LOCKED: 'Another live process writes this files directory: stop it, or give each agency its own directory.',
  LIG_ERR_FILES_CLOSED: 'The file sink was closed: open a new one.',
  // --- probe ingest (src/mediation/ingest-*, src/probe) ------------------------------------
  LIG_ERR_INGEST_MALFORMED: 'A probe sent bytes that are not a ProbeMessage, or sent one out of turn (Hello first, then Batches): check that probe and mediator run the same lig version.',
  LIG_ERR_INGEST_TOO_LARGE: 'A probe batch holds more events than limits.maxBatchEvents: lower the probe batch.maxEvents, or raise the mediator limit.',
  LIG_ERR_INGEST_BATCH_ORDER: 'A probe sent a batch id that does not follow the last one (or Hello\'s first unacked): the probe is faulty; it reconnects and resends from its spool.',
  LIG_ERR_INGEST_BATCH_REPLAY: 'A probe numbers its batches below what the mediator already holds (its spool was lost or replaced): restore the spool directory, or give the probe a new certificate name.',
  LIG_ERR_INGEST_NOT_PROBE: 'The client certificate is not a probe certificate (OU role): issue one with `lig certs issue --role probe --name NAME`.',
  LIG_ERR_INGEST_REPLACED: 'A newer stream from the same probe replaced this one: if two probes share one certificate, give each its own.',
  LIG_ERR_INGEST_UNAVAILABLE: 'The mediator cannot take batches now (shutting down, or its journal is failing): the probe keeps them and resends after reconnecting.',
  LIG_ERR_INGEST_LISTEN: 'The ingest server cannot listen on ingest.listen (in use, or not a local address): choose another address.',
  LIG_ERR_PROBE_STREAM: 'The stream to the mediator failed or ended (unreachable, TLS refused, or a status named in the message): the probe reconnects with backoff and resends.',
  LIG_ERR_PROBE_PROTOCOL: 'The mediator sent something the probe cannot use (malformed, or an Ack for a batch never sent): check versions; the probe reconnects.',
  LIG_ERR_PROBE_SPOOL: 'The probe spool holds a record that is not the batch its index says: move the spool directory aside knowingly (its batches are then lost).',
  LIG_ERR_PROBE_CLOSED: 'The probe client was closed: open a new one.',
  LIG_ERR_PROBE_IDENTITY: 'The probe certificate is not a probe certificate (OU role), or its CN differs from the config name: issue one with `lig certs issue --role probe --name NAME`, and use that name.',
  // --- identity tracking (src/probe/identity: RADIUS accounting, DHCP seen on the wire) -----
  LIG_ERR_RADIUS_TRUNCATED: 'A RADIUS packet ends inside its header or an attribute, or before its Length field says: a cut capture or an IP fragment; it is counted and skipped.',
  LIG_ERR_RADIUS_MALFORMED: 'A RADIUS packet breaks RFC 2865/2866 (Length out of range, an attribute length below 2 or past the end, a value of the wrong size, a repeated single attribute): check what sends to the accounting port; counted and skipped.',
  LIG_ERR_RADIUS_TOO_MANY_ATTRIBUTES: 'A RADIUS packet holds more than MAX_RADIUS_ATTRIBUTES attributes: check the NAS; the packet is counted and skipped.',
  LIG_ERR_RADIUS_MISSING: 'A RADIUS Accounting-Request lacks Acct-Status-Type, Acct-Session-Id or a NAS-IP-Address/NAS-Identifier (RFC 2866): its session cannot be named; check the NAS configuration.',
  LIG_ERR_RADIUS_NOT_ACCOUNTING: 'A packet to a RADIUS accounting port is not an Accounting-Request (code 4): it is counted and ignored; check identity.radiusPorts if this is frequent.',
  LIG_ERR_DHCP_TRUNCATED: 'A DHCP message ends inside its fixed header, magic cookie or an option: a cut capture or an IP fragment; it is counted and skipped.',
  LIG_ERR_DHCP_MALFORMED: 'A DHCP message breaks RFC 2131/2132 (magic cookie, an option of the wrong size, a repeated single option): check the DHCP server or relay; counted and skipped.',
  LIG_ERR_DHCP_TOO_MANY_OPTIONS: 'A DHCP message holds more than MAX_DHCP_OPTIONS options: the message is counted and skipped.',
  LIG_ERR_DHCP_NOT_ETHERNET: 'A DHCP message names a client that is not an Ethernet MAC (htype 1, hlen 6): it cannot be tied to a MAC; it is counted and ignored.',
  // --- mediation core (src/mediation: tasks, numbering, encoding, journals) --------------
  LIG_ERR_MEDIATION_STATE: 'A mediator state file in dataDir (tasks.json, cins.json) is damaged: restore it from a backup; never delete it while journals hold records (task ids and CINs would change).',
  LIG_ERR_MEDIATION_IO: 'Reading or writing the mediator dataDir failed (disk full, permissions, I/O error): fix the disk, then restart the mediator.',
  LIG_ERR_MEDIATION_NO_AGENCY: 'A record was submitted for an agency the mediator has no journal for: use an agency id from the config (agencies).',
  LIG_ERR_MEDIATION_FAILED: 'A mediator state write failed earlier (message says which), so the mediator takes no more records: fix the disk, then restart it.',
  // --- CLI -------------------------------------------------------------------------------
  LIG_ERR_USAGE: 'The command line is wrong; run `lig help` for usage.',
  LIG_ERR_INPUT_READ: 'Reading an input file or stdin failed midway (I/O error): check the disk or whatever feeds the pipe.',
  // --- reference LEMF (src/lemf) ----------------------------------------------------------
  LIG_ERR_LEMF_LISTEN: 'The LEMF cannot listen on the address given (in use, or not a local address): choose another ADDR:PORT.',
  LIG_ERR_LEMF_OUTPUT: 'The LEMF --out directory cannot be used (unwritable, or it holds records but no state.json): give a new or earlier --out directory.',
  LIG_ERR_LEMF_STATE: 'DIR/state.json of the LEMF is damaged: restore it from a backup, or start with a new --out directory.',
  LIG_ERR_LEMF_IO: 'Writing or syncing LEMF output failed (disk full or I/O error); it stopped answering: fix the disk and restart it.',
  // --- lig demo (src/demo) ------------------------------------------------------------------
  LIG_ERR_DEMO_CAPTURE: 'The capture lig demo replays (examples/demo.pcap, bundled) is missing or unreadable: reinstall lig from its repository, or remake it with scripts/make-demo-capture.py.',
  LIG_ERR_DEMO_OUTPUT: 'The lig demo --out directory cannot be used (not a directory, or unwritable): give another --out DIR.',
  LIG_ERR_DEMO_INCOMPLETE: 'lig demo stopped before every record reached the LEMF (the message names the stage and its last error): run it again; if it persists, report it with that message.',
  // --- warrants and the audit log (src/provisioning) -------------------------------------
  LIG_ERR_WARRANT_INVALID: 'The warrant or change is invalid (the message lists every problem, never the LIID or targets): fix those fields and send it again.',
  LIG_ERR_WARRANT_NOT_FOUND: 'No warrant has that id: list the warrants (`lig warrant list`) for the right one.',
  LIG_ERR_WARRANT_STATE: 'The warrant\'s state does not allow this (e.g. activating a stopped one, modifying an expired one, activating after its end time): stopped and expired are final; create a new warrant.',
  LIG_ERR_WARRANT_CONFLICT: 'The LIID is already used for this agency (LIIDs are never reused), or the warrant changed since you read it (version mismatch): read it again and retry.',
  LIG_ERR_WARRANT_FORBIDDEN: 'Only an admin may change warrants (auditors only read; the mediator only expires them): use an admin certificate.',
  LIG_ERR_STORE_VERSION: 'The warrant database was written by a newer or different lig (schema version or migration unknown to this code): run that lig version, or restore a backup.',
  LIG_ERR_STORE_IO: 'The warrant database cannot be opened or written (permissions, disk full, damaged file): fix the data directory, then reopen; the audit log says what was committed.',
  LIG_ERR_STORE_CLOSED: 'The warrant store was closed, or stopped after a failed write: open it again (opening reconciles it with the audit log).',
  LIG_ERR_AUDIT_BROKEN: 'The audit log does not verify (an entry altered, removed or reordered, or the log behind its anchor; the message names the entry): restore it from a backup and investigate; lig will not append to it.',
  LIG_ERR_AUDIT_IO: 'Opening, writing or syncing the audit log failed (disk full, permissions, I/O error): fix the disk, then reopen it; a torn last line is cut on open.',
  LIG_ERR_AUDIT_TOO_LARGE: 'An audit entry would exceed MAX_AUDIT_ENTRY_BYTES: record less in before/after.',
  LIG_ERR_AUDIT_INVALID: 'An audit entry cannot be recorded as given (empty action or subject, unknown role, before/after not plain JSON data): fix the caller.',
  LIG_ERR_AUDIT_CLOSED: 'The audit log was closed, or stopped after a failed write: open it again.',
  // --- admin API (src/provisioning/admin-*) ------------------------------------------------
  LIG_ERR_ADMIN_DENIED: 'Your client certificate\'s role may not do this: admin may change warrants, auditor may only read, other roles nothing; use an admin or auditor certificate (`lig certs issue --role admin --name NAME`).',
  LIG_ERR_ADMIN_REQUEST: 'An admin request is missing a field or has a malformed one (the message names it): fix the command line or the client.',
  LIG_ERR_ADMIN_LISTEN: 'The admin server cannot listen on admin.listen (in use, or not a local address): choose another address.',
  LIG_ERR_ADMIN_UNAVAILABLE: 'The admin API cannot be reached or refused the connection (mediator down, wrong --admin, TLS refused): check the address, the mediator\'s admin listener and your certificate.',
  LIG_ERR_ADMIN_FAILED: 'The admin API answered with an error that carries no lig code (the message has the gRPC status): check the mediator\'s log.',
} as const;

export type LigErrorCode = keyof typeof ERROR_CODES;

/** Base class of every lig error. `code` is stable; `hint` is the catalogue's advice. */
export class LigError extends Error {
  readonly code: LigErrorCode;
  /** `options` may hold a subclass's own fields too: only `cause` is read, and set only when there is one. */
  constructor(code: LigErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
  get hint(): string {
    return ERROR_CODES[this.code];
  }
}

/** `message` placed at a byte offset of its input, when the offset is known. */
function atByte(message: string, offset: number | undefined): string {
  return offset === undefined ? message : `${message} (at byte ${offset})`;
}

/** `message` about a file (or other named thing), its name first when known. */
function inFile(path: string | undefined, message: string): string {
  return path === undefined ? message : `${path}: ${message}`;
}

/**
 * A failure that may have come over gRPC: `grpcCode` is the status the call or stream ended
 * with and `remoteCode` the lig code the other side sent with it, if any (ProbeError,
 * AdminError).
 */
export abstract class GrpcStatusError extends LigError {
  readonly grpcCode: number | undefined;
  readonly remoteCode: string | undefined;
  constructor(code: LigErrorCode, message: string, options?: { grpcCode?: number; remoteCode?: string; cause?: unknown }) {
    super(code, message, options);
    this.grpcCode = options?.grpcCode;
    this.remoteCode = options?.remoteCode;
  }
}

/** Malformed or over-limit BER. `offset` is the byte offset in the input where it was found. */
export class BerError extends LigError {
  /** Byte offset in the input; undefined for errors found while encoding. */
  readonly offset: number | undefined;
  constructor(code: LigErrorCode, message: string, offset?: number) {
    super(code, atByte(message, offset));
    this.offset = offset;
  }
}

/** A record could not be built: the inputs break a rule of the ASN.1 or of lig's profile. */
export class EtsiError extends LigError {
  constructor(message: string) {
    super('LIG_ERR_ETSI_INVALID', message);
  }
}

/** A record would exceed a named size limit; `limit` is the limit that was hit, in bytes. */
export class EtsiLimitError extends LigError {
  readonly limit: number;
  constructor(message: string, limit: number) {
    super('LIG_ERR_ETSI_TOO_LARGE', message);
    this.limit = limit;
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

/** Several configuration errors found in one file, reported together; `errors` lists each. */
export class ConfigErrors extends LigError {
  readonly errors: readonly ConfigError[];
  /** The file (or other source) they were found in, if named. */
  readonly source: string | undefined;
  constructor(errors: readonly ConfigError[], source?: string) {
    const n = errors.length;
    const head = `${source ?? 'configuration'}: ${n} error${n === 1 ? '' : 's'}`;
    super('LIG_ERR_CONFIG', [head, ...errors.map((e) => `  ${e.message}`)].join('\n'));
    this.errors = errors;
    this.source = source;
  }
}

/** A configuration file is not well-formed YAML; `line` and `column` are 1-based. */
export class ConfigSyntaxError extends LigError {
  readonly source: string | undefined;
  readonly line: number;
  readonly column: number;
  constructor(message: string, line: number, column: number, source?: string) {
    super('LIG_ERR_CONFIG_SYNTAX', `${source ?? 'configuration'}:${line}:${column}: ${message}`);
    this.source = source;
    this.line = line;
    this.column = column;
  }
}

/** A configuration file cannot be read. */
export class ConfigReadError extends LigError {
  readonly file: string;
  constructor(file: string, message: string, cause?: unknown) {
    super('LIG_ERR_CONFIG_READ', inFile(file, message), { cause });
    this.file = file;
  }
}

/** A malformed, over-limit or unwritable capture file. `offset` is where in the input it was found. */
export class CaptureFileError extends LigError {
  /** Byte offset from the start of the capture; undefined for errors found while encoding. */
  readonly offset: number | undefined;
  constructor(code: LigErrorCode, message: string, offset?: number) {
    super(code, atByte(message, offset));
    this.offset = offset;
  }
}

/**
 * A packet source cannot start or keep running: bad options, a device or file that cannot be
 * opened, a port that cannot be bound, a read that failed.
 */
export class SourceError extends LigError {}

/** A malformed TZSP or PacketCable CCC datagram. `offset` is where in the datagram it was found. */
export class DatagramError extends LigError {
  readonly offset: number;
  constructor(code: LigErrorCode, message: string, offset: number) {
    super(code, atByte(message, offset));
    this.offset = offset;
  }
}

/**
 * A journal failure. `file` and `offset` locate damage on disk (CORRUPT); both are undefined
 * for errors not tied to a place in a file.
 */
export class JournalError extends LigError {
  readonly file: string | undefined;
  readonly offset: number | undefined;
  constructor(code: LigErrorCode, message: string, where?: { file?: string; offset?: number; cause?: unknown }) {
    super(code, message, where);
    this.file = where?.file;
    this.offset = where?.offset;
  }
}

/** A certificate or key is unusable, or cannot be made. `path` names the file when there is one. */
export class CertError extends LigError {
  readonly path: string | undefined;
  constructor(code: LigErrorCode, message: string, path?: string) {
    super(code, inFile(path, message));
    this.path = path;
  }
}

/**
 * Delivery to an agency failed or was refused. `cause` keeps the underlying error; `peerCode`
 * is its Node or OpenSSL code (e.g. ECONNREFUSED, ERR_TLS_CERT_ALTNAME_INVALID) when there is one.
 */
export class DeliveryError extends LigError {
  readonly peerCode: string | undefined;
  constructor(code: LigErrorCode, message: string, options?: { cause?: unknown; peerCode?: string }) {
    super(code, message, options);
    this.peerCode = options?.peerCode;
  }
}

/** File delivery failed: writing, syncing or recovering an agency's files directory. */
export class FilesError extends LigError {}

/** The command line could not be understood. */
export class UsageError extends LigError {
  constructor(message: string) {
    super('LIG_ERR_USAGE', message);
  }
}

/** The reference LEMF cannot listen, use its output directory, or write to it. `path` names the file when there is one. */
export class LemfError extends LigError {
  readonly path: string | undefined;
  constructor(code: LigErrorCode, message: string, where?: { path?: string; cause?: unknown }) {
    super(code, inFile(where?.path, message), where);
    this.path = where?.path;
  }
}

/**
 * The probe ingest stream refused or failed (mediator side). `probe` names the probe when it
 * is known; the gRPC status is derived from `code` in mediation/status.ts, nowhere else.
 */
export class IngestError extends LigError {
  readonly probe: string | undefined;
  constructor(code: LigErrorCode, message: string, options?: { probe?: string; cause?: unknown }) {
    super(code, message, options);
    this.probe = options?.probe;
  }
}

/**
 * The probe's link to the mediator failed, or its spool is unusable. `grpcCode` is the gRPC
 * status the stream ended with and `remoteCode` the lig code the mediator sent with it, if any.
 */
export class ProbeError extends GrpcStatusError {}

/**
 * A RADIUS accounting packet or DHCP message seen on the wire is malformed or unusable
 * (src/probe/identity). `offset` is where in the UDP payload it was found. The message never
 * carries a username, MAC or address from the packet.
 */
export class IdentityPacketError extends LigError {
  readonly offset: number;
  constructor(code: LigErrorCode, message: string, offset: number) {
    super(code, atByte(message, offset));
    this.offset = offset;
  }
}

/** The mediator core cannot read or write its dataDir state (task ids, CIN allocations). */
export class MediationError extends LigError {}

/** `lig demo` cannot find its capture, cannot use its output directory, or did not see every record delivered. */
export class DemoError extends LigError {}

/**
 * An admin API call was refused or failed. On the server, `code` decides the gRPC status
 * (mediation/status.ts); on the client, `grpcCode` is the status received and `remoteCode`
 * the lig code the mediator sent with it, if any.
 */
export class AdminError extends GrpcStatusError {}

/**
 * A warrant operation was refused: invalid input (`problems` lists each, by field, without
 * quoting LIIDs or targets), an unknown id, a state that does not allow it, a conflict.
 */
export class WarrantError extends LigError {
  readonly problems: readonly { field: string; message: string }[];
  constructor(code: LigErrorCode, message: string, problems: readonly { field: string; message: string }[] = []) {
    super(code, message);
    this.problems = problems;
  }
}

/** The warrant database cannot be opened, migrated or written. */
export class StoreError extends LigError {}

/** The audit log cannot be written, or does not verify; `entry` names the bad entry (its seq) when known. */
export class AuditError extends LigError {
  readonly entry: number | undefined;
  constructor(code: LigErrorCode, message: string, options?: { entry?: number; cause?: unknown }) {
    super(code, message, options);
    this.entry = options?.entry;
  }
}

export function isLigError(e: unknown): e is LigError {
  return e instanceof LigError;
}
