/**
 * A capture time as the records carry it: probes send µs since the epoch, and every record
 * the mediator builds (CC, session and application IRI, summaries) takes the same Stamp.
 */
import type { Stamp } from '../etsi/build';

/** A capture time (µs since the epoch) as a Stamp. */
export function stampOfMicros(us: bigint): Stamp {
  return { seconds: Number(us / 1_000_000n), micros: Number(us % 1_000_000n) };
}
