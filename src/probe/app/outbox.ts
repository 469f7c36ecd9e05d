/**
 * What an analyser hands back from onData, onDatagram or onEnd. Analysers that complete events
 * deep inside their parsing (a response line, a stanza, the end of a message body) push them
 * into an EventOutbox and take them out once, when the call returns; they are counted into
 * `counters.events` as they leave, so the count is of events handed over. Pure.
 */
import type { AppCounters, AppEvent } from './types';

/**
 * What an analyser returns when a call completed no event: one shared empty array, so that
 * the common case allocates nothing. Read only by convention: no one pushes into it.
 */
export const NO_EVENTS: AppEvent[] = [];

/** The events an analyser has made and not yet returned. */
export class EventOutbox {
  private events: AppEvent[] = [];

  constructor(private readonly counters: AppCounters) {}

  push(event: AppEvent): void {
    this.events.push(event);
  }

  /** The events held (NO_EVENTS when none), counted into `counters.events`; the outbox is emptied. */
  take(): AppEvent[] {
    if (this.events.length === 0) return NO_EVENTS;
    const out = this.events;
    this.events = [];
    this.counters.events += out.length;
    return out;
  }
}
