/**
 * The batches of the mediator crash test, as a function of their id, so that the child that
 * sends them and the test that checks what arrived agree without talking: batch `id` holds
 * 1 + id % 5 packets, each with its own tag, time and direction, matched to the content task
 * and the IRI-only task.
 */
import { Direction, type Batch } from '../../src/gen/lig/v1/ingest';
import { packetEvent } from '../mediation-fixtures';
import { taggedPacket } from './mediator-helpers';

export interface CrashPacket {
  tag: string;
  timeUs: bigint;
  direction: Direction;
}

export function crashPackets(id: number): CrashPacket[] {
  return Array.from({ length: 1 + (id % 5) }, (_, k) => ({
    tag: `crash batch ${id} packet ${k}`,
    timeUs: 1_700_000_000_000_000n + BigInt(id * 10 + k),
    direction: [Direction.DIRECTION_FROM_TARGET, Direction.DIRECTION_TO_TARGET, Direction.DIRECTION_BOTH][(id + k) % 3]!,
  }));
}

export function crashBatch(id: number, cc: bigint, iri: bigint): Batch {
  return {
    batchId: BigInt(id),
    events: crashPackets(id).map((p) =>
      packetEvent(taggedPacket(p.tag), [
        [cc, p.direction],
        [iri, p.direction],
      ], p.timeUs),
    ),
  };
}
