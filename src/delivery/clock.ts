/**
 * Time as delivery sees it: the current time and one-shot timers. Injected so that tests
 * drive keep-alive intervals, response deadlines and backoff by advancing a manual clock,
 * without sleeping and without timed assertions.
 */

/** An opaque timer handle, as returned by Clock.setTimeout. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: Date.now and the event loop's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
