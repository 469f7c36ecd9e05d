/**
 * Which session holds which address: the tracker's address index. Pure.
 *
 * A slot is one IPv4 address or one IPv6 prefix (address and length). It has room for one
 * RADIUS session and one DHCP lease: the two may share an address only when they are the same
 * subscriber (tracker.ts decides). Slots are made when claimed and dropped when empty. Every
 * slot whose holders change is noted, so the matcher's address table (bindings.ts) can be
 * brought up to date with exactly those.
 *
 * IPv6 prefixes of different lengths can overlap (a /56 holding a /64). `overlapping` finds
 * every slot whose prefix contains or is contained in a given one: by direct look-up for the
 * shorter or equal lengths present, by a scan of the longer lengths present (rare: a NAS
 * normally hands out one prefix length).
 */
import { maskAddress } from '../../capture/targets';
import type { TrackedSession } from './session';
import { ipv4Number } from './text';

export interface AddressSlot {
  readonly version: 4 | 6;
  /** 4 octets, or 16 with the bits beyond `prefixLength` cleared. */
  readonly address: Uint8Array;
  /** 32 for IPv4. */
  readonly prefixLength: number;
  radius: TrackedSession | undefined;
  dhcp: TrackedSession | undefined;
}

const hex = (a: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).toString('hex');

/** Whether the first `bits` bits of `a` and `b` are equal. */
function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const keep = Math.min(8, bits - i * 8);
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

export class AddressSlots {
  private readonly v4 = new Map<number, AddressSlot>();
  /** Prefix length → hex of the prefix → slot. */
  private readonly v6 = new Map<number, Map<string, AddressSlot>>();
  private touched: AddressSlot[] = [];

  get size(): number {
    let n = this.v4.size;
    for (const m of this.v6.values()) n += m.size;
    return n;
  }

  /** The slot of an IPv4 address, if held. */
  ipv4(address: Uint8Array): AddressSlot | undefined {
    return this.v4.get(ipv4Number(address));
  }

  /** The slot of exactly this IPv6 prefix, if held. */
  ipv6(prefix: Uint8Array, length: number): AddressSlot | undefined {
    return this.v6.get(length)?.get(hex(maskAddress(prefix, length)));
  }

  /** The slot for an IPv4 address, made if needed. */
  claim4(address: Uint8Array): AddressSlot {
    const k = ipv4Number(address);
    let s = this.v4.get(k);
    if (!s) this.v4.set(k, (s = { version: 4, address: Uint8Array.from(address), prefixLength: 32, radius: undefined, dhcp: undefined }));
    return s;
  }

  /** The slot for an IPv6 prefix, made if needed. */
  claim6(prefix: Uint8Array, length: number): AddressSlot {
    const p = maskAddress(prefix, length);
    const k = hex(p);
    let byLength = this.v6.get(length);
    if (!byLength) this.v6.set(length, (byLength = new Map()));
    let s = byLength.get(k);
    if (!s) byLength.set(k, (s = { version: 6, address: p, prefixLength: length, radius: undefined, dhcp: undefined }));
    return s;
  }

  /** Every other slot whose prefix overlaps `prefix`/`length` (contains it or lies inside it). */
  overlapping(prefix: Uint8Array, length: number): AddressSlot[] {
    const out: AddressSlot[] = [];
    for (const [len, byKey] of this.v6) {
      if (len === length) continue;
      if (len < length) {
        const s = byKey.get(hex(maskAddress(prefix, len)));
        if (s) out.push(s);
      } else {
        for (const s of byKey.values()) if (samePrefix(s.address, prefix, length)) out.push(s);
      }
    }
    return out;
  }

  /**
   * Notes that the holders of `s` changed: drops it when it holds nobody, and puts it back
   * when it holds someone again (a claim whose conflicts emptied the slot before it was filled).
   */
  touch(s: AddressSlot): void {
    this.touched.push(s);
    const held = s.radius !== undefined || s.dhcp !== undefined;
    if (s.version === 4) {
      const k = ipv4Number(s.address);
      if (held) this.v4.set(k, s);
      else if (this.v4.get(k) === s) this.v4.delete(k);
      return;
    }
    let byLength = this.v6.get(s.prefixLength);
    const k = hex(s.address);
    if (held) {
      if (!byLength) this.v6.set(s.prefixLength, (byLength = new Map()));
      byLength.set(k, s);
    } else if (byLength?.get(k) === s) {
      byLength.delete(k);
      if (byLength.size === 0) this.v6.delete(s.prefixLength);
    }
  }

  /** The slots touched since the last call (a slot may appear more than once). */
  takeTouched(): AddressSlot[] {
    const t = this.touched;
    this.touched = [];
    return t;
  }

  /** Every slot held. */
  *all(): IterableIterator<AddressSlot> {
    yield* this.v4.values();
    for (const m of this.v6.values()) yield* m.values();
  }
}
