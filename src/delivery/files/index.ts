/**
 * File delivery (see sink.ts): an agency's records as per-LIID rotated pcap and JSON-lines
 * files with SHA-256 manifests. Public surface of the folder.
 */
export { FileSink, COUNTER_CACHE_ENTRIES } from './sink';
export type { FileSinkStats } from './sink';
export * from './options';
export { liidDirName, fileName, parseFileName, utcStamp, MANIFEST_FILE, PART_SUFFIX, REJECTS_DIR, PRIVATE_DIR } from './names';
export type { PartKind } from './names';
export { routeRecord, jsonLine, headerTime, isoTime, CC_LINKTYPE, CC_SNAPLEN } from './route';
export type { Routed, Interface, RecordTime } from './route';
export { STATE_FILE, MAX_STATE_BYTES } from './state';
