/**
 * Shared by the mediation tests: IP packets whose header length is known by construction,
 * agencies and intercepts as the config gives them, batches of packet events, and a reading
 * of a record back into what matters (LIID, CIN, sequence number, kind, direction, bytes).
 */
import * as path from 'node:path';
import type { FilesAgency, Intercept, TcpAgency } from '../src/config';
import { Journal, type JournalOptions } from '../src/delivery/journal';
import { decodePsPdu } from '../src/etsi';
import { type Batch, Direction, type Event, type IdentityEvent, IdentityEvent_Kind, IdentityEvent_Source } from '../src/gen/lig/v1/ingest';
import type { Hi } from '../src/mediation/encode-batch';
import { type HandlerLog, MediationHandler } from '../src/mediation/handler';
import { JournalChannel } from '../src/mediation/journal-channel';
import { CinRegistry } from '../src/mediation/numbering';
import { SessionTable } from '../src/mediation/sessions';
import { TaskIds } from '../src/mediation/tasks';

/** A small deterministic PRNG (xorshift32), so property tests replay. */
export function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

export interface BuiltPacket {
  bytes: Buffer;
  /** IP + transport header bytes, as built: everything before the payload. */
  headerBytes: number;
}

/** IPv4 (with `optionWords` of options) carrying TCP (with `tcpOptionWords`), UDP or ICMP, then `payload`. */
export function ipv4(proto: 'tcp' | 'udp' | 'icmp', payload: Buffer, o: { optionWords?: number; tcpOptionWords?: number; fragOffset?: number } = {}): BuiltPacket {
  const ihl = 5 + (o.optionWords ?? 0);
  const l4 = proto === 'tcp' ? 20 + 4 * (o.tcpOptionWords ?? 0) : 8;
  const h = Buffer.alloc(ihl * 4 + l4, 0x01); // options and ports: non-zero filler
  h[0] = 0x40 | ihl;
  h.writeUInt16BE(Math.min(0xffff, h.length + payload.length), 2);
  h.writeUInt16BE(o.fragOffset ?? 0, 6);
  h[8] = 64;
  h[9] = proto === 'tcp' ? 6 : proto === 'udp' ? 17 : 1;
  h.set([192, 0, 2, 7], 12);
  h.set([198, 51, 100, 9], 16);
  if (proto === 'tcp') h[ihl * 4 + 12] = (5 + (o.tcpOptionWords ?? 0)) << 4;
  const headerBytes = (o.fragOffset ?? 0) !== 0 ? ihl * 4 : h.length;
  return { bytes: Buffer.concat([h, payload]), headerBytes };
}

/** IPv6 with a hop-by-hop header (when `hbh`) carrying TCP or UDP, then `payload`. */
export function ipv6(proto: 'tcp' | 'udp', payload: Buffer, o: { hbh?: boolean } = {}): BuiltPacket {
  const fixed = Buffer.alloc(40, 0);
  fixed[0] = 0x60;
  const l4 = Buffer.alloc(proto === 'tcp' ? 20 : 8, 0x02);
  if (proto === 'tcp') l4[12] = 5 << 4;
  const next = proto === 'tcp' ? 6 : 17;
  const ext = o.hbh ? Buffer.from([next, 0, 1, 4, 0, 0, 0, 0]) : Buffer.alloc(0);
  fixed[6] = o.hbh ? 0 : next;
  fixed.writeUInt16BE(Math.min(0xffff, ext.length + l4.length + payload.length), 4);
  fixed[7] = 64;
  fixed[8] = 0x20;
  fixed[24] = 0x20;
  const h = Buffer.concat([fixed, ext, l4]);
  return { bytes: Buffer.concat([h, payload]), headerBytes: h.length };
}

export const agencyTcp = (over: Partial<TcpAgency> = {}): TcpAgency => ({
  id: 'lea-1',
  country: 'DE',
  delivery: 'tcp',
  operatorId: 'OPERATOR-1',
  networkElementId: 'mediator-1',
  timestampFormat: 'microsecond',
  domainIdVersion: 40,
  hi2: { address: { host: '127.0.0.1', port: 1 } },
  hi3: { address: { host: '127.0.0.1', port: 2 } },
  tls: { ca: '/nonexistent', cert: '/nonexistent', key: '/nonexistent', minVersion: 'TLSv1.3' },
  keepalive: { interval: 1000, wait: 10_000 },
  pduAck: false,
  ...over,
});

export const agencyFiles = (dir: string, over: Partial<FilesAgency> = {}): FilesAgency => ({
  id: 'files-1',
  country: 'US',
  delivery: 'files',
  operatorId: 'OPERATOR-2',
  timestampFormat: 'microsecond',
  domainIdVersion: 40,
  files: { dir, rotate: { bytes: 2 ** 20, interval: 3_600_000 } },
  ...over,
});

export const intercept = (liid: string, type: Intercept['type'], agency = 'lea-1', probes?: string[]): Intercept => ({
  liid,
  agency,
  type,
  targets: [{ kind: 'ip', family: 4, address: '192.0.2.7', prefixLength: 32 }],
  ...(probes ? { probes } : {}),
});

/** A packet event at `timeUs` matching `tasks` (task id, direction). */
export function packetEvent(data: Uint8Array, tasks: [bigint, Direction][], timeUs = 1_700_000_000_123_456n): Event {
  return { timeUs, kind: { $case: 'packet', packet: { matches: tasks.map(([taskId, direction]) => ({ taskId, direction, sessionKey: '' })), data: Buffer.from(data), originalLength: 0 } } };
}

export const batchOf = (batchId: bigint, events: Event[]): Batch => ({ batchId, events });

/** An intercept of a username target (the mediator treats every target kind alike; probes match it). */
export const userIntercept = (liid: string, type: Intercept['type'], username = 'alice', agency = 'lea-1', probes?: string[]): Intercept => ({
  liid,
  agency,
  type,
  targets: [{ kind: 'username', username }],
  ...(probes ? { probes } : {}),
});

/** An identity event with every field empty but those given (RADIUS Start by default). */
export function identityEvent(over: Partial<IdentityEvent>): IdentityEvent {
  return {
    taskIds: [],
    kind: IdentityEvent_Kind.KIND_SESSION_START,
    username: '',
    mac: Buffer.alloc(0),
    ipv4: Buffer.alloc(0),
    ipv6Prefix: Buffer.alloc(0),
    ipv6PrefixLength: 0,
    sessionId: '',
    nasIp: Buffer.alloc(0),
    nasIdentifier: '',
    octetsIn: 0n,
    octetsOut: 0n,
    terminateCause: 0,
    source: IdentityEvent_Source.SOURCE_RADIUS,
    sessionKey: '',
    sessionStartUs: 0n,
    leaseSeconds: 0,
    ...over,
  };
}

/** An identity event at capture time `timeUs`. */
export const identityAt = (timeUs: bigint, ev: IdentityEvent): Event => ({ timeUs, kind: { $case: 'identity', identity: ev } });

/** A packet event at `timeUs` matching `tasks` (task id, direction, session key). */
export function sessionPacket(data: Uint8Array, tasks: [bigint, Direction, string][], timeUs: bigint): Event {
  return { timeUs, kind: { $case: 'packet', packet: { matches: tasks.map(([taskId, direction, sessionKey]) => ({ taskId, direction, sessionKey })), data: Buffer.from(data), originalLength: 0 } } };
}

/** What a record says, read back with lig's decoder. */
export interface ReadRecord {
  liid: string;
  cin: number | undefined;
  seq: number;
  kind: 'cc' | 'iri' | 'cinReset' | 'other';
  direction: string | undefined;
  /** cc: the packet; iri: the reported headers. */
  data: Buffer | undefined;
  seconds: number | undefined;
  micros: number | undefined;
  /** iri: the IRIType (iRI-Begin, …), and for an IPIRI its contents as decoded. */
  iriType?: string;
  access?: Record<string, any>;
}

export function readRecord(bytes: Uint8Array): ReadRecord {
  const pdu = decodePsPdu(bytes) as unknown as {
    pSHeader: { lawfulInterceptionIdentifier: Buffer; communicationIdentifier: { communicationIdentityNumber?: number }; sequenceNumber: number; microSecondTimeStamp?: { seconds: number; microSeconds: number } };
    payload: Record<string, any>;
  };
  const h = pdu.pSHeader;
  const base = {
    liid: h.lawfulInterceptionIdentifier.toString('latin1'),
    cin: h.communicationIdentifier.communicationIdentityNumber,
    seq: h.sequenceNumber,
    seconds: h.microSecondTimeStamp?.seconds,
    micros: h.microSecondTimeStamp?.microSeconds,
  };
  const p = pdu.payload;
  if (p.cCPayloadSequence) {
    const cc = p.cCPayloadSequence[0];
    return { ...base, kind: 'cc', direction: cc.payloadDirection, data: cc.cCContents.iPCC?.iPCCContents?.iPPackets };
  }
  if (p.iRIPayloadSequence) {
    const iri = p.iRIPayloadSequence[0];
    const access = iri.iRIContents.iPIRI?.iPIRIContents;
    return { ...base, kind: 'iri', direction: iri.payloadDirection, data: iri.iRIContents.iPIRIPacketReport?.report?.header?.header, iriType: iri.iRIType, ...(access ? { access } : {}) };
  }
  if (p.tRIPayload && 'cINReset' in p.tRIPayload) return { ...base, kind: 'cinReset', direction: undefined, data: undefined };
  return { ...base, kind: 'other', direction: undefined, data: undefined };
}

export { Direction };

// --- the core over real journals (no network), for the mediation unit tests ----------------

/** The mediator core over an HI2 and an HI3 journal of agency lea-1 in `dir`, as the mediator assembles it. */
export class TestCore {
  private constructor(
    readonly dir: string,
    readonly handler: MediationHandler,
    readonly journals: Record<Hi, Journal>,
    readonly channels: Record<Hi, JournalChannel>,
    readonly taskIds: TaskIds,
    readonly cins: CinRegistry,
    readonly sessions: SessionTable,
  ) {}

  static async open(dir: string, intercepts: Intercept[], o: { jopts?: JournalOptions; roomWaitMs?: number; log?: HandlerLog; now?: () => Date } = {}): Promise<TestCore> {
    const taskIds = await TaskIds.open(dir);
    const cins = await CinRegistry.open(dir);
    const sessions = await SessionTable.open(dir);
    const journals = { hi2: await Journal.open(path.join(dir, 'hi2'), o.jopts), hi3: await Journal.open(path.join(dir, 'hi3'), o.jopts) };
    const channels = { hi2: new JournalChannel(journals.hi2, 'lea-1/hi2', o.roomWaitMs), hi3: new JournalChannel(journals.hi3, 'lea-1/hi3', o.roomWaitMs) };
    const handler = await MediationHandler.create({
      agencies: [agencyTcp()],
      intercepts,
      taskIds,
      cins,
      sessions,
      channel: (a, hi) => (a === 'lea-1' ? channels[hi] : undefined),
      ...(o.log ? { log: o.log } : {}),
      ...(o.now ? { now: o.now } : {}),
    });
    return new TestCore(dir, handler, journals, channels, taskIds, cins, sessions);
  }

  task(liid: string): bigint {
    return this.taskIds.get('lea-1', liid)!;
  }

  /** Every record of one journal from its first unconfirmed one, as bytes. */
  async raw(hi: Hi): Promise<Uint8Array[]> {
    const j = this.journals[hi];
    const out: Uint8Array[] = [];
    for (let from = j.confirmed + 1n; ; ) {
      const got = await j.read(from, { maxRecords: 1000 });
      if (got.length === 0) return out;
      out.push(...got.map((r) => r.data));
      from = got.at(-1)!.index + 1n;
    }
  }

  async records(hi: Hi): Promise<ReadRecord[]> {
    return (await this.raw(hi)).map(readRecord);
  }

  async close(): Promise<void> {
    await this.journals.hi2.close();
    await this.journals.hi3.close();
  }
}
