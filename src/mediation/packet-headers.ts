/**
 * Where the headers of an IP packet end: moved to src/capture/packet-headers.ts, where the
 * probe (IRI-only header reports and flow summaries) and the mediator (which cuts again,
 * whatever the probe sends) share the one rule. Kept so the mediator's imports stay as they are.
 */
export { MAX_REPORT_EXTENSION_HEADERS, headerLength } from '../capture/packet-headers';
