/** The reference LEMF (`lig lemf`): the agency's collector for HI2 and HI3, and a conformance checker of what it receives. */
export { Lemf, MAX_QUEUED_BYTES_PER_CONNECTION, SUMMARY_FILE, type LemfOptions, type LemfStats, type ConnectionEvent, type RefusalEvent } from './lemf';
export { parseListenAddress, formatAddress, type ListenAddress } from './address';
export { answerFor, answerHeader, type Answer, type AnswerKind } from './answers';
export { ccPackets, type CcPacket } from './cc-packets';
export { liidFileName, liidLabel } from './names';
export type { PduOutcome } from './receive';
export { SequenceTracker, MAX_OPEN_GAPS_PER_STREAM, streamKey, type Verdict } from './sequence';
export { STATE_FILE, MAX_LISTED_GAPS, loadState, type LemfState } from './state';
export { RAW_FILES, RECORDS_FILE, CC_DIR, type Hi } from './store';
export { summaryLines, type Summary } from './summary';
