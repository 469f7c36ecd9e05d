/**
 * Makes the packet source a probe's `source` setting names (config/probe.ts: pcap:FILE,
 * if:IFACE, tzsp:ADDR:PORT, ccc:ADDR:PORT). The source is not started.
 */
import type { ProbeSource } from '../config/probe';
import type { Task } from '../gen/lig/v1/ingest';
import type { CccHeaderForm } from './ccc';
import { FileSourceOptions, PcapFileSource } from './file-source';
import { QueueLimits } from './frame-queue';
import { InterfaceSource } from './live-source';
import { PacketSource } from './source';
import { CccSource, TzspSource } from './udp-sources';

export interface PacketSourceOptions {
  queue?: Partial<QueueLimits>;
  /** pcap: replay pace. */
  rate?: FileSourceOptions['rate'];
  /** if: the initial task list, for the capture filter. */
  tasks?: readonly Task[];
  /** if: UDP ports always captured for identity tracking. */
  identityUdpPorts?: readonly number[];
  /** if: libpcap buffer; tzsp/ccc: socket receive buffer. */
  bufferBytes?: number;
  /** tzsp/ccc: accepted sender addresses. */
  allowFrom?: readonly string[];
  /** ccc: header form. */
  cccHeader?: CccHeaderForm | 'auto';
  /** ccc: CCCID → task id. */
  intercepts?: ReadonlyMap<number, bigint>;
  /** ccc: time-stamp source. */
  cccTime?: 'arrival' | 'header';
}

export function createPacketSource(source: ProbeSource, opts: PacketSourceOptions = {}): PacketSource {
  switch (source.kind) {
    case 'pcap':
      return new PcapFileSource(source.file, { queue: opts.queue, rate: opts.rate });
    case 'interface':
      return new InterfaceSource(source.name, { queue: opts.queue, tasks: opts.tasks, identityUdpPorts: opts.identityUdpPorts, bufferBytes: opts.bufferBytes });
    case 'tzsp':
      return new TzspSource(source.listen, { queue: opts.queue, receiveBufferBytes: opts.bufferBytes, allowFrom: opts.allowFrom });
    case 'ccc':
      return new CccSource(source.listen, {
        queue: opts.queue,
        receiveBufferBytes: opts.bufferBytes,
        allowFrom: opts.allowFrom,
        header: opts.cccHeader,
        intercepts: opts.intercepts,
        time: opts.cccTime,
      });
  }
}
