/**
 * The durable journal of handover records (see journal.ts). Public surface of the folder.
 */
export { Journal } from './journal';
export type { JournalStats, ReadOptions } from './journal';
export type { JournalRecord } from './segment';
export * from './options';
export { MAX_RECORD_BYTES, FRAME_OVERHEAD_BYTES, frameSize } from './framing';
