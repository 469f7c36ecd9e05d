/**
 * `if:IFACE`: live capture from a network interface through libpcap (the `cap` binding).
 * Passive: the interface is only read. A kernel filter built from the task list
 * (bpf-filter.ts) keeps everything but the targets' traffic and the identity ports out of
 * the process; `setTasks` replaces it when the tasks change, through a handover (handover.ts)
 * that neither loses nor repeats a packet. Needs root or CAP_NET_RAW.
 *
 * What `cap` does not give: the kernel's capture time and original length of each packet.
 * Frames are time-stamped when the binding hands them over (immediate mode, so within the
 * event loop's latency of arrival) and `origLen` is the captured length (snap length 65,535).
 */
import { EventEmitter } from 'node:events';
import { SourceError } from '../errors';
import type { Task } from '../gen/lig/v1/ingest';
import { DEFAULT_IDENTITY_UDP_PORTS, MATCH_NOTHING, buildCaptureFilter } from './bpf-filter';
import { QueueLimits } from './frame-queue';
import { HandoverLedger } from './handover';
import { LINKTYPE } from './pcap-format';
import { QueuedSource, nowFrameTime } from './source';
import { Targets, collectTargets } from './targets';

/** libpcap's capture buffer per handle (pcap_set_buffer_size): what absorbs bursts while the event loop is busy. */
export const DEFAULT_CAPTURE_BUFFER_BYTES = 16 * 2 ** 20;
/** The snap length `cap` always uses. */
export const LIVE_SNAPLEN = 65_535;

interface CapHandle extends EventEmitter {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
}
interface CapModule {
  Cap: new () => CapHandle;
}

/** The link types `cap` names, as LINKTYPE_* numbers. */
const CAP_LINKTYPES: Record<string, number> = {
  NULL: LINKTYPE.NULL,
  ETHERNET: LINKTYPE.ETHERNET,
  RAW: LINKTYPE.RAW,
  LINKTYPE_LINUX_SLL: LINKTYPE.LINUX_SLL,
  IEEE802_11_RADIO: 127,
};

/**
 * Closed `cap` handles, kept reachable for the life of the process. The binding (0.2.1) stops
 * but never uv_close()s a handle's poll watcher, and lets the object be collected once closed:
 * collecting it would free memory libuv still links to and crash the process. A few hundred
 * bytes per filter change (the 64 KiB packet buffer is not kept).
 */
const RETIRED: CapHandle[] = [];

function loadCap(): CapModule {
  try {
    return require('cap') as CapModule;
  } catch (e) {
    throw new SourceError('LIG_ERR_SOURCE_OPEN', 'the libpcap binding (npm package `cap`) is not built: install libpcap-dev, then run `npm rebuild cap`', { cause: e });
  }
}

interface Handle {
  cap: CapHandle;
  buffer: Buffer;
  linktype: number;
  closed: boolean;
}

export interface InterfaceSourceOptions {
  queue?: Partial<QueueLimits>;
  /** libpcap buffer per handle; DEFAULT_CAPTURE_BUFFER_BYTES unless told. */
  bufferBytes?: number;
  /** UDP ports always captured, for identity tracking; DEFAULT_IDENTITY_UDP_PORTS unless told. */
  identityUdpPorts?: readonly number[];
  /** The initial task list (none: only the identity ports are captured). */
  tasks?: readonly Task[];
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class InterfaceSource extends QueuedSource {
  readonly kind = 'if' as const;
  private readonly bufferBytes: number;
  private readonly identityUdpPorts: readonly number[];
  private targets: Targets;
  private handle: Handle | undefined;
  /** The handle being retired during a handover, and the ledger that removes its duplicates. */
  private retiring: Handle | undefined;
  private ledger: HandoverLedger | undefined;
  private changes: Promise<void> = Promise.resolve();
  private stopped = false;
  private currentFilter: string | undefined;

  constructor(
    readonly iface: string,
    opts: InterfaceSourceOptions = {},
  ) {
    super(opts.queue);
    this.bufferBytes = opts.bufferBytes ?? DEFAULT_CAPTURE_BUFFER_BYTES;
    if (!Number.isSafeInteger(this.bufferBytes) || this.bufferBytes < 65_536) {
      throw new SourceError('LIG_ERR_SOURCE_OPTIONS', `bufferBytes must be an integer of at least 65536, got ${this.bufferBytes}`);
    }
    this.identityUdpPorts = opts.identityUdpPorts ?? DEFAULT_IDENTITY_UDP_PORTS;
    this.targets = collectTargets(opts.tasks ?? []);
    this.filterFor(LINKTYPE.ETHERNET); // validates the ports now rather than at start
  }

  /** The filter expression in force (undefined before start). */
  get filter(): string | undefined {
    return this.currentFilter;
  }

  /** The interface's link type (undefined before start). */
  get linktype(): number | undefined {
    return this.handle?.linktype;
  }

  async start(): Promise<void> {
    if (this.handle || this.stopped) throw new SourceError('LIG_ERR_SOURCE_OPTIONS', 'the source was already started');
    const cap = loadCap();
    // The filter depends on the link type, which only an open handle tells: ask with one that passes nothing.
    const probe = this.open(cap, MATCH_NOTHING);
    this.close(probe);
    const filter = this.filterFor(probe.linktype);
    this.handle = this.open(cap, filter);
    this.currentFilter = filter;
  }

  /**
   * Replaces the task list the filter is built from. Resolves once the new filter is in
   * force (at once when it is unchanged); changes are applied one after another, in order.
   * Rejects with a SourceError if the new filter cannot be opened (the old one stays).
   */
  setTasks(tasks: readonly Task[]): Promise<void> {
    const targets = collectTargets(tasks);
    const change = this.changes.then(() => this.apply(targets));
    this.changes = change.catch(() => undefined);
    return change;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const h of [this.handle, this.retiring]) if (h) this.close(h);
    this.queue.end();
    await this.changes;
  }

  private filterFor(linktype: number): string {
    return buildCaptureFilter(this.targets, { linktype, identityUdpPorts: this.identityUdpPorts });
  }

  private async apply(targets: Targets): Promise<void> {
    this.targets = targets;
    const current = this.handle;
    if (!current || this.stopped) return;
    const filter = this.filterFor(current.linktype);
    if (filter === this.currentFilter) return;
    const next = this.open(loadCap(), filter);
    this.ledger = new HandoverLedger();
    this.retiring = current;
    this.handle = next;
    this.currentFilter = filter;
    // Two turns of the event loop include a poll phase: the old handle has delivered all it held from before the new one opened.
    await turn();
    await turn();
    this.close(current);
    this.retiring = undefined;
    // The new handle may still hold copies of what the old one delivered last: one more poll phase.
    await turn();
    await turn();
    this.countSkippedBy('handover-duplicate', this.ledger.duplicates);
    this.ledger = undefined;
  }

  private open(cap: CapModule, filter: string): Handle {
    const c = new cap.Cap();
    const buffer = Buffer.alloc(LIVE_SNAPLEN);
    let name: string;
    try {
      name = c.open(this.iface, filter, this.bufferBytes, buffer);
    } catch (e) {
      RETIRED.push(c); // half-open inside the binding: never collect it (see RETIRED)
      const why = e instanceof Error ? e.message : String(e);
      throw new SourceError('LIG_ERR_SOURCE_OPEN', `cannot capture on interface "${this.iface}": ${why}`, { cause: e });
    }
    const unknown = /^Unknown linktype (\d+)$/.exec(name);
    const h: Handle = { cap: c, buffer, linktype: CAP_LINKTYPES[name] ?? (unknown ? Number(unknown[1]) : -1), closed: false };
    c.on('packet', (nbytes: number) => this.receive(h, nbytes));
    return h;
  }

  private close(h: Handle): void {
    if (h.closed) return;
    h.closed = true;
    h.cap.close();
    h.cap.removeAllListeners('packet');
    RETIRED.push(h.cap);
  }

  private receive(h: Handle, nbytes: number): void {
    if (h.closed || this.stopped) return;
    // The binding reuses its buffer for the next packet: the frame gets its own copy.
    const data = Buffer.allocUnsafe(nbytes);
    h.buffer.copy(data, 0, 0, nbytes);
    if (this.ledger) {
      const side = h === this.retiring ? 'old' : 'new';
      if (!this.ledger.admit(side, data.toString('latin1'))) return;
    }
    this.offer({ ts: nowFrameTime(), linktype: h.linktype, data, origLen: nbytes });
  }

  private countSkippedBy(reason: string, n: number): void {
    if (n > 0) this.skipped[reason] = (this.skipped[reason] ?? 0) + n;
  }
}
