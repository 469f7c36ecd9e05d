/**
 * TZSP (TaZmen Sniffer Protocol) datagram parser: what MikroTik RouterOS streams for
 * `/ip firewall mangle action=sniff-tzsp`, `/ip firewall calea action=sniff` and
 * `/tool sniffer` streaming, one captured frame per UDP datagram (port 37008 by default).
 * Pure: bytes in, a plain object or a DatagramError out.
 *
 * Layout (all integers big-endian):
 *   version (1 octet, = 1) | type (1) | encapsulation (2) | tags ... | TAG END | frame
 * Tags: PADDING (0) and END (1) are one octet; every other tag is type (1), length (1), value.
 * Keep-alive (4) and port-opener (5) datagrams stop after the four header octets.
 */
import { DatagramError } from '../errors';
import { LINKTYPE } from './pcap-format';

export const TZSP_VERSION = 1;
export const TZSP_HEADER_BYTES = 4;
/** The port RouterOS streams to unless told otherwise (Wireshark's `tzsp` default). */
export const TZSP_DEFAULT_PORT = 37008;

export const TZSP_TYPE = {
  RECEIVED_TAG_LIST: 0,
  PACKET_FOR_TRANSMIT: 1,
  RESERVED: 2,
  CONFIGURATION: 3,
  KEEPALIVE: 4,
  PORT_OPENER: 5,
} as const;

export const TZSP_TAG = {
  PADDING: 0,
  END: 1,
  /** Length of the frame before the sensor cut it: 2 octets. */
  ORIGINAL_LENGTH: 41,
} as const;

/** TZSP encapsulations lig decodes; others are reported so the source can count and skip them. */
export const TZSP_ENCAP_ETHERNET = 1;

/** A datagram that carries a captured frame (types 0 and 1). */
export interface TzspPacket {
  kind: 'packet';
  type: number;
  /** TZSP encapsulation of `data` (1 = Ethernet). */
  encapsulation: number;
  /** LINKTYPE_* for `data`, or undefined when lig does not decode that encapsulation. */
  linktype: number | undefined;
  /** The frame: a view into the datagram, from the octet after TAG END. */
  data: Uint8Array;
  /** From the ORIGINAL_LENGTH tag when present: the frame's length before the sensor cut it. */
  originalLength: number | undefined;
}

/** A datagram that carries no frame (configuration, keep-alive, port opener, reserved). */
export interface TzspControl {
  kind: 'control';
  type: number;
}

export type TzspDatagram = TzspPacket | TzspControl;

function truncated(what: string, offset: number): DatagramError {
  return new DatagramError('LIG_ERR_TZSP_TRUNCATED', `TZSP datagram ends inside ${what}`, offset);
}

/** Parses one TZSP datagram; throws DatagramError (LIG_ERR_TZSP_*) when it is malformed. */
export function parseTzsp(d: Uint8Array): TzspDatagram {
  if (d.length < TZSP_HEADER_BYTES) throw truncated('the 4-octet header', d.length);
  if (d[0] !== TZSP_VERSION) throw new DatagramError('LIG_ERR_TZSP_BAD_VERSION', `TZSP version ${d[0]} is not 1`, 0);
  const type = d[1]!;
  const encapsulation = (d[2]! << 8) | d[3]!;
  if (type > TZSP_TYPE.PORT_OPENER) throw new DatagramError('LIG_ERR_TZSP_BAD_TYPE', `TZSP type ${type} is not one of 0..5`, 1);
  if (type !== TZSP_TYPE.RECEIVED_TAG_LIST && type !== TZSP_TYPE.PACKET_FOR_TRANSMIT) return { kind: 'control', type };
  let pos = TZSP_HEADER_BYTES;
  let originalLength: number | undefined;
  for (;;) {
    if (pos >= d.length) throw truncated('the tag list (no TAG END)', pos);
    const tag = d[pos]!;
    if (tag === TZSP_TAG.END) {
      pos++;
      break;
    }
    if (tag === TZSP_TAG.PADDING) {
      pos++;
      continue;
    }
    if (pos + 2 > d.length) throw truncated(`the length of tag ${tag}`, pos);
    const len = d[pos + 1]!;
    if (pos + 2 + len > d.length) throw truncated(`the value of tag ${tag} (${len} octets)`, pos);
    if (tag === TZSP_TAG.ORIGINAL_LENGTH && len === 2) originalLength = (d[pos + 2]! << 8) | d[pos + 3]!;
    pos += 2 + len;
  }
  return {
    kind: 'packet',
    type,
    encapsulation,
    linktype: encapsulation === TZSP_ENCAP_ETHERNET ? LINKTYPE.ETHERNET : undefined,
    data: d.subarray(pos),
    originalLength,
  };
}

/** Builds a TZSP datagram (type 0, the given encapsulation, optional tags, TAG END, frame): for tests and tools. */
export function encodeTzsp(frame: Uint8Array, opts: { type?: number; encapsulation?: number; tags?: Uint8Array } = {}): Uint8Array {
  const tags = opts.tags ?? new Uint8Array(0);
  const out = new Uint8Array(TZSP_HEADER_BYTES + tags.length + 1 + frame.length);
  out[0] = TZSP_VERSION;
  out[1] = opts.type ?? TZSP_TYPE.RECEIVED_TAG_LIST;
  const encap = opts.encapsulation ?? TZSP_ENCAP_ETHERNET;
  out[2] = encap >> 8;
  out[3] = encap & 0xff;
  out.set(tags, TZSP_HEADER_BYTES);
  out[TZSP_HEADER_BYTES + tags.length] = TZSP_TAG.END;
  out.set(frame, TZSP_HEADER_BYTES + tags.length + 1);
  return out;
}
