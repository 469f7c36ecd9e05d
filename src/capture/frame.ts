/**
 * The unit every packet source yields: one link-layer frame (or IP packet, for LINKTYPE_RAW)
 * with its capture time. Pure types and conversions; no I/O, no clock.
 */

/** A capture time: whole seconds since 1970-01-01T00:00:00Z and microseconds within that second. */
export interface FrameTime {
  seconds: number;
  /** 0..999_999 */
  micros: number;
}

/** One captured frame. */
export interface Frame {
  ts: FrameTime;
  /** LINKTYPE_* of `data` (1 Ethernet, 101 raw IP, 113/276 Linux cooked, ...). */
  linktype: number;
  /** The captured bytes. The frame owns them: sources never reuse the memory behind a frame. */
  data: Uint8Array;
  /** Length on the wire; more than `data.length` when the capture cut the frame. */
  origLen: number;
  /**
   * Set when the source already knows the intercept the packet belongs to, because the network
   * element chose it (PacketCable CCC: the CCCID names it). Matching by address is then not
   * needed to attribute it; absent for every other source.
   */
  taskId?: bigint;
}

/** Capture time in microseconds since the epoch, as Event.time_us carries it. */
export function frameTimeUs(ts: FrameTime): bigint {
  return BigInt(ts.seconds) * 1_000_000n + BigInt(ts.micros);
}

