/**
 * Reconnect delays: capped exponential backoff with full jitter (each delay is uniform in
 * [0, min(max, initial * 2^attempt))), so that many links cut by one outage do not come back
 * in lockstep, and a collector that stays down is tried at most every `max` milliseconds.
 */
import { ConfigError } from '../errors';

/** First reconnect delay bound, in milliseconds. */
export const INITIAL_BACKOFF_MS = 250;
/** Largest reconnect delay bound, in milliseconds. */
export const MAX_BACKOFF_MS = 30_000;

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Uniform in [0, 1), like Math.random (the default); injected by tests. */
  random?: () => number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? INITIAL_BACKOFF_MS;
    this.maxMs = opts.maxMs ?? MAX_BACKOFF_MS;
    if (!Number.isFinite(this.initialMs) || this.initialMs <= 0) throw new ConfigError('backoff.initialMs', 'must be a positive number of milliseconds');
    if (!Number.isFinite(this.maxMs) || this.maxMs < this.initialMs) throw new ConfigError('backoff.maxMs', `must be at least initialMs (${this.initialMs})`);
    this.random = opts.random ?? Math.random;
  }

  /** The bound for the next delay (the delay itself is jittered below it). */
  get ceiling(): number {
    // 2^attempt stops growing once past the cap, so attempt may count up forever
    return Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 52));
  }

  /** The next delay, in whole milliseconds; each call doubles the bound up to the cap. */
  next(): number {
    const r = this.random();
    const jitter = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
    const delay = Math.floor(jitter * this.ceiling);
    this.attempt++;
    return Math.min(delay, this.maxMs);
  }

  /** Back to the initial bound, after a connection proved healthy. */
  reset(): void {
    this.attempt = 0;
  }
}
