/**
 * `tzsp:ADDR:PORT` and `ccc:ADDR:PORT`: UDP receivers for what a MikroTik router (or a
 * PacketCable element) streams to the probe. Each datagram is parsed by a pure parser
 * (tzsp.ts, ccc.ts); malformed ones are counted by error code and skipped, never fatal. The
 * receiver never waits for the consumer: a full queue drops and counts. When `allowFrom`
 * lists addresses, datagrams from anywhere else are counted ("foreign-sender") and skipped,
 * so nobody else on the network can inject packets into an intercept.
 */
import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { DatagramError, SourceError } from '../errors';
import type { Endpoint } from '../config/values';
import { CccHeaderForm, parseCcc } from './ccc';
import type { Frame, FrameTime } from './frame';
import { QueueLimits } from './frame-queue';
import { LINKTYPE } from './pcap-format';
import { QueuedSource, nowFrameTime } from './source';
import { parseTzsp } from './tzsp';

/** Socket receive buffer asked of the kernel (SO_RCVBUF; Linux caps it at net.core.rmem_max). */
export const DEFAULT_UDP_RECEIVE_BUFFER_BYTES = 8 * 2 ** 20;

export interface UdpSourceOptions {
  queue?: Partial<QueueLimits>;
  receiveBufferBytes?: number;
  /** Sender addresses accepted; all when absent. */
  allowFrom?: readonly string[];
}

abstract class UdpSource extends QueuedSource {
  private socket: dgram.Socket | undefined;
  private readonly allowFrom: Set<string> | undefined;
  private readonly receiveBufferBytes: number;

  constructor(
    readonly listen: Endpoint,
    opts: UdpSourceOptions = {},
  ) {
    super(opts.queue);
    this.receiveBufferBytes = opts.receiveBufferBytes ?? DEFAULT_UDP_RECEIVE_BUFFER_BYTES;
    if (!Number.isSafeInteger(this.receiveBufferBytes) || this.receiveBufferBytes < 1) {
      throw new SourceError('LIG_ERR_SOURCE_OPTIONS', `receiveBufferBytes must be a positive integer, got ${this.receiveBufferBytes}`);
    }
    // Senders are compared as Node reports them: IPv4-mapped IPv6 senders of a dual-stack socket also by their IPv4 form.
    this.allowFrom = opts.allowFrom ? new Set(opts.allowFrom.flatMap((a) => [a, `::ffff:${a}`])) : undefined;
  }

  /** The bound address (the actual port when 0 was asked for). */
  address(): Endpoint {
    if (!this.socket) throw new SourceError('LIG_ERR_SOURCE_OPTIONS', 'the source is not started');
    const a = this.socket.address();
    return { host: a.address, port: a.port };
  }

  start(): Promise<void> {
    if (this.socket) return Promise.reject(new SourceError('LIG_ERR_SOURCE_OPTIONS', 'the source was already started'));
    const socket = dgram.createSocket({ type: isIPv6(this.listen.host) ? 'udp6' : 'udp4', recvBufferSize: this.receiveBufferBytes });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        socket.close();
        reject(new SourceError('LIG_ERR_SOURCE_LISTEN', `cannot listen on UDP ${this.listen.host}:${this.listen.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { cause: e }));
      };
      socket.once('error', fail);
      socket.bind(this.listen.port, this.listen.host, () => {
        socket.off('error', fail);
        // Later socket errors (ICMP-induced on some systems) must not end the capture.
        socket.on('error', () => this.countSkipped('socket-error'));
        socket.on('message', (msg, rinfo) => this.receive(msg, rinfo.address));
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    const s = this.socket;
    this.queue.end();
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }

  private receive(msg: Buffer, from: string): void {
    if (this.allowFrom && !this.allowFrom.has(from)) {
      this.countSkipped('foreign-sender');
      return;
    }
    let frame: Frame | undefined;
    try {
      frame = this.toFrame(msg, nowFrameTime());
    } catch (e) {
      if (!(e instanceof DatagramError)) throw e;
      this.countMalformed(e.code);
      return;
    }
    if (frame) this.offer(frame);
  }

  /** The frame in a datagram, or undefined (after counting why) when it carries none; throws DatagramError when malformed. */
  protected abstract toFrame(msg: Buffer, arrival: FrameTime): Frame | undefined;
}

/** TZSP receiver: Ethernet frames, time-stamped on arrival. */
export class TzspSource extends UdpSource {
  readonly kind = 'tzsp' as const;

  protected toFrame(msg: Buffer, arrival: FrameTime): Frame | undefined {
    const d = parseTzsp(msg);
    if (d.kind === 'control') {
      this.countSkipped('tzsp-control');
      return undefined;
    }
    if (d.linktype === undefined) {
      this.countSkipped('tzsp-encapsulation');
      return undefined;
    }
    return { ts: arrival, linktype: d.linktype, data: d.data, origLen: Math.max(d.data.length, d.originalLength ?? 0) };
  }
}

export interface CccSourceOptions extends UdpSourceOptions {
  /** The header form the sender uses (4, 12 or 20 octets), or 'auto' (see ccc.ts). Default 'auto'. */
  header?: CccHeaderForm | 'auto';
  /** CCCID → task id of the intercepts this source serves; datagrams with other CCCIDs are skipped. */
  intercepts?: ReadonlyMap<number, bigint>;
  /** 'arrival' (default) or 'header': the NTP timestamp of the 12/20-octet forms, when present. */
  time?: 'arrival' | 'header';
}

/** PacketCable CCC receiver: IP packets (LINKTYPE_RAW), attributed to a task by their CCCID. */
export class CccSource extends UdpSource {
  readonly kind = 'ccc' as const;
  readonly header: CccHeaderForm | 'auto';
  private readonly time: 'arrival' | 'header';
  private intercepts: ReadonlyMap<number, bigint>;

  constructor(listen: Endpoint, opts: CccSourceOptions = {}) {
    super(listen, opts);
    this.header = opts.header ?? 'auto';
    if (![4, 12, 20, 'auto'].includes(this.header)) throw new SourceError('LIG_ERR_SOURCE_OPTIONS', `header must be 4, 12, 20 or "auto", got ${String(this.header)}`);
    this.time = opts.time ?? 'arrival';
    if (this.time !== 'arrival' && this.time !== 'header') throw new SourceError('LIG_ERR_SOURCE_OPTIONS', `time must be "arrival" or "header", got ${String(this.time)}`);
    this.intercepts = new Map(opts.intercepts ?? []);
  }

  /** Replaces the CCCID → task id mapping at once (when the task list changes). */
  setIntercepts(intercepts: ReadonlyMap<number, bigint>): void {
    this.intercepts = new Map(intercepts);
  }

  protected toFrame(msg: Buffer, arrival: FrameTime): Frame | undefined {
    const d = parseCcc(msg, this.header);
    const taskId = this.intercepts.get(d.cccid);
    if (taskId === undefined) {
      this.countSkipped('unknown-cccid');
      return undefined;
    }
    const ts = this.time === 'header' && d.time ? d.time : arrival;
    return { ts, linktype: LINKTYPE.RAW, data: d.packet, origLen: d.packet.length, taskId };
  }
}
