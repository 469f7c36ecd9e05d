/**
 * Shared by the admin and warrant integration tests: a mediator config with an admin
 * listener on 127.0.0.1:0 (the mediator helpers' config plus `admin`), a valid warrant
 * request, `lig` run to its end, a steady stream of TZSP-wrapped packets that name
 * themselves, and what the LEMF stored on HI3, read as it arrives.
 */
import * as dgram from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeTzsp } from '../../src/capture/tzsp';
import * as pb from '../../src/gen/lig/v1/admin';
import { type Lemf, RAW_FILES } from '../../src/lemf';
import type { PduOutcome } from '../../src/lemf/receive';
import { ipv4Udp } from '../helpers/identity-packets';
import { lig } from '../helpers/lig-process';
import { readRecord } from '../mediation-fixtures';
import { type Setup, lemfConfigYaml } from './mediator-helpers';

/** The mediator helpers' YAML (agency lea-1 delivering to `lemf`, static intercepts) with an admin listener. */
export function adminConfigYaml(s: Setup, lemf: Lemf, dataDir: string, agencyExtra = ''): string {
  const tls = `{ ca: ${JSON.stringify(s.pki.ca)}, cert: ${JSON.stringify(s.pki.mediator.cert)}, key: ${JSON.stringify(s.pki.mediator.key)} }`;
  let yaml = lemfConfigYaml(s, lemf, { dataDir });
  yaml = yaml.replace('\nlimits:', `\nadmin:\n  listen: 127.0.0.1:0\n  tls: ${tls}\nlimits:`);
  if (agencyExtra) yaml = yaml.replace('    keepalive: { interval: 1s, wait: 10s }', `    keepalive: { interval: 1s, wait: 10s }\n${agencyExtra}`);
  return yaml;
}

/** A warrant for lea-1: everything valid, ending in an hour. */
export function warrantRequest(liid: string, over: Partial<pb.CreateWarrantRequest> = {}): pb.CreateWarrantRequest {
  return {
    liid,
    agency: 'lea-1',
    country: 'DE',
    type: pb.InterceptType.INTERCEPT_TYPE_CONTENT,
    targets: [{ kind: { $case: 'ip', ip: '192.0.2.99' } }],
    endTimeMs: BigInt(Date.now() + 3_600_000),
    compliance: { orderReference: 'ORDER-1', issuingAuthority: 'Judge A', presentingOfficer: 'Officer B', responsibleEmployee: 'Employee C' },
    probes: [],
    ...over,
  };
}

export interface Ran {
  code: number | null;
  stdout: string[];
  stderr: string;
}

/** Runs `lig ARGV…` to its end. */
export async function run(argv: string[]): Promise<Ran> {
  const p = lig(argv);
  const code = await p.exit;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/** An IPv4/UDP packet from `src` to 198.18.0.1 whose payload is `tag`. */
export function udpFrom(src: string, tag: string): Buffer {
  return ipv4Udp(src, '198.18.0.1', 40000, 9, Buffer.from(tag));
}

/** The packet in an Ethernet frame in a TZSP datagram, as a MikroTik streams it. */
function tzspOf(ip: Buffer): Uint8Array {
  const eth = Buffer.alloc(14);
  eth.set([0x02, 0, 0, 0, 0, 1], 0);
  eth.set([0x02, 0, 0, 0, 0, 2], 6);
  eth.writeUInt16BE(0x0800, 12);
  return encodeTzsp(Buffer.concat([eth, ip]));
}

/**
 * Sends, round after round until stopped, one packet from each source to a TZSP port; each
 * packet's payload is its source's label and the round number (`W17`): `round` is the round
 * being sent now, so a test can say "sent after this point".
 */
export class Traffic {
  round = 0;
  private readonly socket = dgram.createSocket('udp4');
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(port: number, readonly sources: Record<string, string>) {
    this.done = this.loop(port);
  }

  private async loop(port: number): Promise<void> {
    while (!this.stopped) {
      this.round++;
      for (const [label, src] of Object.entries(this.sources)) {
        const d = tzspOf(udpFrom(src, `${label}${this.round}`));
        await new Promise<void>((resolve, reject) => this.socket.send(d, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      }
      // A steady pace, not a measurement: nothing waits on it.
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Stops sending (once the round under way is sent); idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return this.done;
    this.stopped = true;
    await this.done;
    this.socket.close();
  }
}

/** One CC record as the LEMF stored it: LIID, the packet's label and round, its capture time. */
export interface Got {
  liid: string;
  label: string;
  round: number;
  /** Capture time, microseconds since the epoch. */
  timeUs: number;
}

/** What the LEMF stores on HI3, decoded as it arrives (from DIR/hi3.ber, at the offsets it reports). */
export class Hi3Records extends EventEmitter {
  readonly all: Got[] = [];
  private readonly fd: number;
  private readonly onPdu = (o: PduOutcome) => this.add(o);

  constructor(private readonly lemf: Lemf, out: string) {
    super();
    this.fd = fs.openSync(path.join(out, RAW_FILES.hi3), 'r');
    lemf.on('pdu', this.onPdu);
  }

  of(liid: string): Got[] {
    return this.all.filter((g) => g.liid === liid);
  }

  /** Resolves with the first record (stored from now on or before) that satisfies `pred`. */
  async waitFor(pred: (g: Got) => boolean): Promise<Got> {
    for (;;) {
      const hit = this.all.find(pred);
      if (hit) return hit;
      await once(this, 'record');
    }
  }

  close(): void {
    this.lemf.off('pdu', this.onPdu);
    fs.closeSync(this.fd);
  }

  private add(o: PduOutcome): void {
    if (o.hi !== 'hi3' || !o.pdu || o.duplicate) return;
    const bytes = Buffer.alloc(o.length);
    fs.readSync(this.fd, bytes, 0, o.length, o.offset);
    const r = readRecord(bytes);
    if (r.kind !== 'cc' || !r.data) return;
    const tag = r.data.subarray(28).toString('latin1');
    const m = /^([A-Z]+)(\d+)$/.exec(tag);
    if (!m) return;
    this.all.push({ liid: r.liid, label: m[1]!, round: Number(m[2]), timeUs: r.seconds! * 1e6 + r.micros! });
    this.emit('record');
  }
}
