/**
 * Facts about the two capture file formats, the limits lig enforces when reading them, and
 * the packet type the readers yield. Pure: no I/O.
 *
 * Classic pcap: draft-ietf-opsawg-pcap (the libpcap savefile format).
 * pcapng: draft-ietf-opsawg-pcapng (blocks: SHB, IDB, EPB, SPB, ...).
 */

/** Classic pcap magic numbers, as read in the file's own byte order. */
export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/** Alexey Kuznetzov's "modified pcap" (24-byte record headers); recognised only to refuse it. */
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;

/** pcapng block types lig reads; all others are skipped whole. */
export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_IDB = 0x00000001;
export const PCAPNG_SPB = 0x00000003;
export const PCAPNG_EPB = 0x00000006;
/** Section Header Block byte-order magic, as read in the section's byte order. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const PCAPNG_VERSION_MAJOR = 1;
/** Interface Description Block options lig uses. */
export const PCAPNG_OPT_ENDOFOPT = 0;
export const PCAPNG_OPT_IF_TSRESOL = 9;
export const PCAPNG_OPT_IF_TSOFFSET = 14;
/** Smallest blocks: type, length, (body), length. */
export const PCAPNG_MIN_BLOCK_BYTES = 12;
export const PCAPNG_MIN_SHB_BYTES = 28;

/** Link types lig meets most (LINKTYPE_* in the tcpdump.org registry). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/**
 * Largest snapshot length lig writes, and the default for the largest packet it reads:
 * libpcap's MAXIMUM_SNAPLEN. Enough for any Ethernet frame, including jumbo and GRO/TSO
 * aggregates seen on Linux.
 */
export const MAX_SNAPLEN = 262_144;

/**
 * Largest captured packet the readers accept (override with `CaptureLimits.maxRecordBytes`).
 * A larger length in a record header is far more likely damage than a packet, and must not
 * make the reader wait for (or allocate) gigabytes.
 */
export const DEFAULT_MAX_RECORD_BYTES = MAX_SNAPLEN;

/**
 * Largest pcapng block accepted, whatever its type (override with
 * `CaptureLimits.maxBlockBytes`). Wireshark uses the same bound.
 */
export const DEFAULT_MAX_BLOCK_BYTES = 16 * 1024 * 1024;

export interface CaptureLimits {
  maxRecordBytes: number;
  maxBlockBytes: number;
}

export const DEFAULT_CAPTURE_LIMITS: Readonly<CaptureLimits> = {
  maxRecordBytes: DEFAULT_MAX_RECORD_BYTES,
  maxBlockBytes: DEFAULT_MAX_BLOCK_BYTES,
};

/** A point in time: whole seconds since the Unix epoch, and nanoseconds within that second. */
export interface Timestamp {
  sec: number;
  nsec: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** One packet from a capture. */
export interface CapturedPacket {
  /** Undefined for a pcapng Simple Packet Block, which carries no time. */
  ts: Timestamp | undefined;
  /** LINKTYPE_* of the packet's interface. */
  linktype: number;
  /** The captured bytes: a view into the input (copy it to keep it beyond the input's life). */
  data: Uint8Array;
  /** Length of the packet on the wire; more than `data.length` when the capture truncated it. */
  origLen: number;
  /** pcapng interface index within its section; 0 for classic pcap. */
  interfaceId: number;
  /** Byte offset of the packet's record or block in the input. */
  offset: number;
}
