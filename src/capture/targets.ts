/**
 * The addresses a probe looks for, taken from the mediator's task list and checked once, so
 * the matcher (src/probe/matcher.ts) and the capture pre-filter (bpf-filter.ts) agree on
 * exactly the same set. Pure.
 *
 * Refused (counted in `invalid`, never matched): an IP address that is not 4 or 16 octets, a
 * prefix longer than the address, a prefix length of 0 (proto3's unset value; it would match
 * every subscriber), a MAC that is not 6 octets, is all zeros or is a group (multicast or
 * broadcast) address, which no subscriber device owns. Username and e-mail targets are
 * resolved elsewhere (identity tracking) and only counted here (`deferred`).
 * IPv4-mapped IPv6 targets (::ffff:a.b.c.d, prefix of 96 or more) become IPv4 targets.
 * Host bits beyond the prefix length are cleared.
 */
import type { Task } from '../gen/lig/v1/ingest';

export interface IpTarget {
  version: 4 | 6;
  /** 4 or 16 octets, host bits cleared. */
  address: Uint8Array;
  prefixLength: number;
}

export interface TaskTargets {
  taskId: bigint;
  ips: IpTarget[];
  /** 6-octet unicast MAC addresses. */
  macs: Uint8Array[];
}

export interface Targets {
  tasks: TaskTargets[];
  /** Targets refused as malformed or unsafe (see above). */
  invalid: number;
  /** Username and e-mail targets: not matched by address. */
  deferred: number;
}

const MAPPED_PREFIX = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff);

/** Clears the bits of `a` beyond the first `bits`. */
export function maskAddress(a: Uint8Array, bits: number): Uint8Array {
  const out = Uint8Array.from(a);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

function ipTarget(address: Uint8Array, prefixLength: number): IpTarget | undefined {
  if (address.length !== 4 && address.length !== 16) return undefined;
  const bits = address.length * 8;
  if (!Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > bits) return undefined;
  if (address.length === 16 && prefixLength >= 96 && MAPPED_PREFIX.every((b, i) => address[i] === b)) {
    return { version: 4, address: maskAddress(address.subarray(12), prefixLength - 96), prefixLength: prefixLength - 96 };
  }
  return { version: address.length === 4 ? 4 : 6, address: maskAddress(address, prefixLength), prefixLength };
}

function validMac(m: Uint8Array): boolean {
  return m.length === 6 && (m[0]! & 1) === 0 && m.some((b) => b !== 0);
}

/** Checks and normalises every task's address and MAC targets. */
export function collectTargets(tasks: readonly Task[]): Targets {
  const out: Targets = { tasks: [], invalid: 0, deferred: 0 };
  for (const task of tasks) {
    const t: TaskTargets = { taskId: task.taskId, ips: [], macs: [] };
    for (const target of task.targets ?? []) {
      const k = target.kind;
      if (k?.$case === 'ip') {
        const ip = ipTarget(k.ip.address, k.ip.prefixLength);
        if (ip) t.ips.push(ip);
        else out.invalid++;
      } else if (k?.$case === 'mac') {
        if (validMac(k.mac)) t.macs.push(Uint8Array.from(k.mac));
        else out.invalid++;
      } else if (k?.$case === 'username' || k?.$case === 'email') {
        out.deferred++;
      } else {
        out.invalid++;
      }
    }
    out.tasks.push(t);
  }
  return out;
}

/** "a.b.c.d" or RFC 5952 text for an address (for filters; never logged with a task). */
export function formatAddress(a: Uint8Array): string {
  if (a.length === 4) return a.join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a[i]! << 8) | a[i + 1]!);
  // Longest run of two or more zero words becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** "aa:bb:cc:dd:ee:ff". */
export function formatMac(m: Uint8Array): string {
  return Array.from(m, (b) => b.toString(16).padStart(2, '0')).join(':');
}
