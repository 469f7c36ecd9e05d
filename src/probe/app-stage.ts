/**
 * The probe's application stage: what happens to a packet after matching, for the application
 * analysers (src/probe/app) and the IRI-only reporting modes. No I/O, no clock: capture time
 * comes with the packets.
 *
 * 1. A packet that matched tasks goes to the flow table (TCP reassembly, UDP datagrams; the
 *    analyser its port and first bytes choose), tagged with its matches. Each AppEvent becomes
 *    an IriEvent for the tasks the flow's latest packet matched that are still in the task list.
 *    A packet that matched nothing is not looked at (except 2).
 * 2. E-mail targets (Target.email): while a task has one, every TCP packet to or from a mail
 *    port (SMTP, POP3, IMAP: MAIL_PORTS; the sniffers confirm the protocol) goes to a second,
 *    separately bounded flow table, whoever's it is. A mail event is that task's when its
 *    sender, a recipient or its user name (AUTH, POP3/IMAP logon: the mailbox) is a target
 *    address; nothing else of the flow or its subscriber goes to the task: no packet, no other
 *    event. Addresses compare case-insensitively in the domain; the local part exactly as
 *    written (RFC 5321 §2.4: only the domain's host may interpret it), unless the option
 *    `emailLocalPart` is 'insensitive'.
 * 3. IRI-only tasks (Task.type other than CONTENT, whatever the reason): an IriEvent for them
 *    carries none of the event's contentFields (nor contentTruncated) and no content; when a
 *    flow's tasks are of both kinds, each kind gets its own IriEvent. Their packets are sent as
 *    the IP and transport headers only (headerLength), in an event apart from the content
 *    tasks' full packet, unless the task's report mode is SUMMARY, which sends no packet and
 *    instead counts the flow (flow-summary.ts).
 *
 * Match.direction of an IriEvent (the contract with src/mediation/app-iri.ts): for e-mail, the
 * message or logon — FROM_TARGET when the target sent it or logged on (an SMTP submission by
 * the flow's client, the target's own logon; a message whose sender, or the AUTH user, is a
 * targeted address), TO_TARGET when the target receives it (a POP3/IMAP download by the
 * client; a message to a targeted address). For every other event, the flow: FROM_TARGET when
 * the target is the flow's client, TO_TARGET when it is the server, BOTH when both are.
 *
 * Fields: the analyser's (see src/probe/app/*.ts) and the flow's: `client`, `clientPort`,
 * `server`, `serverPort` (addresses as text, ports in decimal; the client is the end that
 * opened the flow) and `transport` ("tcp"/"udp"). An event must fit a batch: the analysers keep
 * at most MAX_IRI_CONTENT_BYTES of a message (contentTruncated "true" when it was longer), values
 * are cut (the longest first, counted) past MAX_IRI_FIELDS_BYTES, and content is cut further when
 * the fields leave it less room (contentTruncated "true", counted).
 */
import type { DecodedPacket } from '../capture/decode';
import { headerLength } from '../capture/packet-headers';
import { formatAddress } from '../capture/targets';
import { ConfigError } from '../errors';
import { Direction, type Event, type Match, ReportMode, type Task, Task_Type } from '../gen/lig/v1/ingest';
import { type FlowInfo, FlowTable, type FlowTableCounters, MAX_FLOWS } from './app/flow-table';
import { APP_PROTOCOLS, STREAM_ANALYSERS } from './app/index';
import { type PacketSkip, flowPacket } from './app/packet';
import type { AppEvent } from './app/types';
import { DEFAULT_SUMMARY_INTERVAL_US, FlowSummaries, type FlowSummaryCounters, MAX_SUMMARY_FLOWS, SUMMARY_SWEEP_US } from './flow-summary';

/** The mail protocols read for e-mail targets. */
export const MAIL_PROTOCOLS: readonly string[] = Object.freeze(['smtp', 'pop3', 'imap']);
/** Their well-known ports (the analysers' own). */
export const MAIL_PORTS: ReadonlySet<number> = new Set(STREAM_ANALYSERS.filter((s) => MAIL_PROTOCOLS.includes(s.protocol)).flatMap((s) => s.ports));
/** Mail flows of every subscriber followed at once for e-mail targets, unless told. */
export const MAX_MAIL_WATCH_FLOWS = 1024;
/**
 * Most octets of a message an IriEvent carries (the EmailCC made of it must fit a journal
 * record), and so the most an analyser keeps of one: what is past it is never sent.
 */
export const MAX_IRI_CONTENT_BYTES = 60 * 1024;
/** Most octets an IriEvent's encoding takes: within a batch's room for one event (spool.ts MAX_EVENT_BYTES). */
export const MAX_IRI_EVENT_BYTES = 63 * 1024;
/** Most octets all of an IriEvent's fields may take (their values are cut past it). */
export const MAX_IRI_FIELDS_BYTES = 16 * 1024;

export interface AppStageOptions {
  /** Protocols analysed (default: all of APP_PROTOCOLS). */
  protocols: readonly string[] | undefined;
  /** Flows of matched traffic followed at once. */
  maxFlows: number;
  /** Mail flows followed at once for e-mail targets. */
  mailFlows: number;
  /** Flows summarised at once for IRI-only tasks in a summary mode. */
  summaryFlows: number;
  /** How the local part of an e-mail target compares (see the file comment). */
  emailLocalPart: 'exact' | 'insensitive';
}

export const DEFAULT_APP_STAGE_OPTIONS: Readonly<AppStageOptions> = Object.freeze({
  protocols: undefined,
  maxFlows: MAX_FLOWS,
  mailFlows: MAX_MAIL_WATCH_FLOWS,
  summaryFlows: MAX_SUMMARY_FLOWS,
  emailLocalPart: 'exact' as const,
});

/** What the stage did. Counts only: no addresses, no content, no task ids. */
export interface AppStageCounters {
  /** The flow table of matched traffic, and that of mail read for e-mail targets. */
  flows: FlowTableCounters;
  mail: FlowTableCounters;
  /** Matched packets the flow tables could not take, by reason (not TCP or UDP, fragments...). */
  skipped: Record<PacketSkip, number>;
  /** IriEvents made, and how many of them were for IRI-only tasks. */
  iriEvents: number;
  iriOnlyEvents: number;
  /** Mail events that matched an e-mail target. */
  emailMatches: number;
  /** Events whose field values or content were cut to fit a batch. */
  fieldsCut: number;
  contentCut: number;
  /** Packet events of IRI-only tasks (headers only), and packets not sent because their tasks report summaries only. */
  headerPackets: number;
  withheldPackets: number;
  summaries: FlowSummaryCounters;
}

/** How a task's matches are reported. */
interface TaskPolicy {
  content: boolean;
  /** IRI-only: header packet events. */
  headers: boolean;
  /** IRI-only in a summary mode: its interval (µs); -1 otherwise. */
  intervalUs: number;
}

type Tag = readonly Match[];
const NO_MATCHES: Tag = Object.freeze([]);
const SKIPS: readonly PacketSkip[] = ['not-tcp-udp', 'fragment', 'transport-truncated', 'transport-malformed'];

/** The policy of a task (IRI-only unless it is said to be a content task). */
function policyOf(t: Task): TaskPolicy {
  if (t.type === Task_Type.TYPE_CONTENT) return { content: true, headers: false, intervalUs: -1 };
  const mode = t.reportMode ?? ReportMode.REPORT_MODE_UNSPECIFIED;
  const summary = mode === ReportMode.REPORT_MODE_SUMMARY || mode === ReportMode.REPORT_MODE_BOTH;
  const seconds = t.summaryIntervalSeconds ?? 0;
  return { content: false, headers: mode !== ReportMode.REPORT_MODE_SUMMARY, intervalUs: summary ? (seconds > 0 ? seconds * 1e6 : DEFAULT_SUMMARY_INTERVAL_US) : -1 };
}

/** An e-mail address as compared: the domain in lower case (a final dot dropped), the local part per `localPart`. */
export function emailKey(address: string, localPart: AppStageOptions['emailLocalPart']): string | undefined {
  let a = address.trim();
  if (a.startsWith('<') && a.endsWith('>')) a = a.slice(1, -1);
  const at = a.lastIndexOf('@');
  if (at <= 0 || at === a.length - 1) return undefined;
  const local = a.slice(0, at);
  const domain = a.slice(at + 1).toLowerCase().replace(/\.$/, '');
  return `${localPart === 'insensitive' ? local.toLowerCase() : local}@${domain}`;
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** At least what an IriEvent's encoding adds besides its fields, protocol and session keys (time, tags, lengths). */
const EVENT_OVERHEAD_BYTES = 48;
const MATCH_OVERHEAD_BYTES = 20;
/** At least the encoded size of a fields map (each entry: tag, length, key and value with theirs). */
const fieldsSize = (fields: Record<string, string>) => Object.entries(fields).reduce((n, [k, v]) => n + 12 + utf8Bytes(k) + utf8Bytes(v), 0);

export class AppStage {
  private readonly options: AppStageOptions;
  private readonly table: FlowTable<Tag>;
  private readonly mail: FlowTable<Tag>;
  private readonly summaries: FlowSummaries;
  private policies = new Map<bigint, TaskPolicy>();
  private emails = new Map<string, bigint[]>();
  /** Whether any task is IRI-only (else every match gets the packet as it is). */
  private mixed = false;
  private out: Event[] = [];
  /** Summaries a packet caused, to follow its packet events. */
  private readonly scratch: Event[] = [];
  private nextTickUs = 0;
  private readonly skipped = Object.fromEntries(SKIPS.map((k) => [k, 0])) as Record<PacketSkip, number>;
  private readonly c = { iriEvents: 0, iriOnlyEvents: 0, emailMatches: 0, fieldsCut: 0, contentCut: 0, headerPackets: 0, withheldPackets: 0 };

  /** Throws ConfigError (LIG_ERR_CONFIG) for an option out of range. */
  constructor(options: Partial<AppStageOptions> = {}) {
    const o = (this.options = { ...DEFAULT_APP_STAGE_OPTIONS, ...options });
    for (const k of ['maxFlows', 'mailFlows', 'summaryFlows'] as const) {
      if (!Number.isSafeInteger(o[k]) || o[k] < 1) throw new ConfigError(`applications.${k}`, `must be an integer of at least 1, got ${o[k]}`);
    }
    if (o.emailLocalPart !== 'exact' && o.emailLocalPart !== 'insensitive') throw new ConfigError('applications.emailLocalPart', 'must be "exact" or "insensitive"');
    const unknown = (o.protocols ?? []).find((p) => !APP_PROTOCOLS.includes(p));
    if (unknown !== undefined) throw new ConfigError('applications.protocols', `"${unknown}" is not one of ${APP_PROTOCOLS.join(', ')}`);
    const protocols = o.protocols ?? APP_PROTOCOLS;
    const analyser = { maxContentBytes: MAX_IRI_CONTENT_BYTES };
    this.table = new FlowTable<Tag>((f, e) => this.onEvent(f, e), { maxFlows: o.maxFlows, protocols, analyser });
    this.mail = new FlowTable<Tag>((f, e) => this.onEvent(f, e), { maxFlows: o.mailFlows, protocols: protocols.filter((p) => MAIL_PROTOCOLS.includes(p)), analyser });
    this.summaries = new FlowSummaries({ maxFlows: o.summaryFlows });
  }

  /** Whether mail of every subscriber is read (an e-mail target exists): watch() is then called for unmatched packets. */
  get watchingMail(): boolean {
    return this.emails.size > 0;
  }

  /**
   * Takes a new task list. Summaries of flows whose task no longer reports them are appended
   * to `out` (REPORT_END). When no e-mail target is left, the mail flows end (what they held
   * goes to no one). Returns how many e-mail targets were refused (not an address).
   */
  setTasks(tasks: readonly Task[], nowUs: number, out: Event[]): number {
    const policies = new Map<bigint, TaskPolicy>();
    const emails = new Map<string, bigint[]>();
    const intervals = new Map<bigint, number>();
    let refused = 0;
    for (const t of tasks) {
      const p = policyOf(t);
      policies.set(t.taskId, p);
      if (p.intervalUs > 0) intervals.set(t.taskId, p.intervalUs);
      for (const x of t.targets ?? []) {
        if (x.kind?.$case !== 'email') continue;
        const key = emailKey(x.kind.email, this.options.emailLocalPart);
        if (key === undefined) {
          refused++;
          continue;
        }
        const ids = emails.get(key) ?? [];
        if (!ids.includes(t.taskId)) ids.push(t.taskId);
        emails.set(key, ids);
      }
    }
    this.out = out;
    this.policies = policies;
    this.mixed = [...policies.values()].some((p) => !p.content);
    this.summaries.retain(intervals, out);
    const watched = this.emails.size > 0;
    this.emails = emails;
    // No e-mail target left: the mail flows end, and what they held goes to no one.
    if (emails.size === 0 && watched) this.mail.endAll(BigInt(nowUs));
    return refused;
  }

  /** Capture time has reached `nowUs`: flows idle too long end, summaries due are made (appended to `out`). */
  tick(nowUs: number, out: Event[]): void {
    if (nowUs < this.nextTickUs) return;
    this.nextTickUs = nowUs + SUMMARY_SWEEP_US;
    this.out = out;
    const now = BigInt(nowUs);
    this.table.expire(now);
    if (this.mail.size > 0) this.mail.expire(now);
    this.summaries.tick(nowUs, out);
  }

  /**
   * A packet that matched tasks: returns the packet event to send first (the full packet for
   * content tasks, else the headers for IRI-only ones, else nothing), and appends what follows
   * it to `out`: the headers event when both kinds matched, a flow's start summary, IriEvents.
   */
  matched(p: DecodedPacket, timeUs: bigint, timeNum: number, matches: readonly Match[], out: Event[]): Event | undefined {
    this.out = out;
    let first: Event | undefined;
    if (!this.mixed) first = packetEvent(p, timeUs, matches as Match[], false);
    else {
      const content: Match[] = [];
      const headers: Match[] = [];
      const summaries = this.scratch;
      for (const m of matches) {
        const policy = this.policies.get(m.taskId);
        if (policy?.content) content.push(m);
        else if (!policy || policy.headers) headers.push(m);
        if (policy && policy.intervalUs > 0) this.summaries.packet(p, timeNum, m, policy.intervalUs, summaries);
      }
      if (content.length > 0) first = packetEvent(p, timeUs, content, false);
      if (headers.length > 0) {
        const h = packetEvent(p, timeUs, headers, true);
        this.c.headerPackets++;
        if (first) out.push(h);
        else first = h;
      }
      if (!first) this.c.withheldPackets++;
      if (summaries.length > 0) {
        for (const e of summaries) out.push(e);
        summaries.length = 0;
      }
    }
    this.feed(this.table, p, timeUs, matches);
    return first;
  }

  /** A packet that matched nothing, while e-mail targets exist: a mail flow's packets are read. */
  watch(p: DecodedPacket, timeUs: bigint, out: Event[]): void {
    if (p.protocol !== 6 || p.srcPort === undefined || p.dstPort === undefined) return;
    if (!MAIL_PORTS.has(p.dstPort) && !MAIL_PORTS.has(p.srcPort)) return;
    this.out = out;
    this.feed(this.mail, p, timeUs, NO_MATCHES);
  }

  /** The probe stops: every flow ends, its pending events and final summaries appended to `out`. */
  endAll(nowUs: number, out: Event[]): void {
    this.out = out;
    this.table.endAll(BigInt(nowUs));
    this.mail.endAll(BigInt(nowUs));
    this.summaries.endAll(out);
  }

  counters(): AppStageCounters {
    return { flows: this.table.counters(), mail: this.mail.counters(), skipped: { ...this.skipped }, ...this.c, summaries: this.summaries.counters() };
  }

  private feed(table: FlowTable<Tag>, p: DecodedPacket, timeUs: bigint, tag: Tag): void {
    const fp = flowPacket(p, timeUs);
    if (typeof fp === 'string') {
      if (tag !== NO_MATCHES) this.skipped[fp]++;
      return;
    }
    table.packet(fp, tag);
  }

  /** An analyser's event: IriEvents for the flow's tasks and the e-mail targets it names (see the file comment). */
  private onEvent(flow: FlowInfo<Tag>, e: AppEvent): void {
    const content: Match[] = [];
    const iriOnly: Match[] = [];
    const mail = MAIL_PROTOCOLS.includes(e.protocol);
    const reversed = mail && e.protocol !== 'smtp' && e.fields.kind === 'download';
    for (const m of flow.tag) {
      const policy = this.policies.get(m.taskId);
      if (!policy) continue; // the task was removed since the flow's latest packet
      const direction = flowDirection(m.direction, flow.tagSide, reversed);
      (policy.content ? content : iriOnly).push({ taskId: m.taskId, direction, sessionKey: m.sessionKey });
    }
    if (mail && this.emails.size > 0) this.emailMatches(e, content, iriOnly);
    if (content.length === 0 && iriOnly.length === 0) return;
    const flowFields: Record<string, string> = {
      client: formatAddress(flow.client.address),
      clientPort: String(flow.client.port),
      server: formatAddress(flow.server.address),
      serverPort: String(flow.server.port),
      transport: flow.transport,
    };
    if (content.length > 0) this.emit(e, content, { ...e.fields, ...flowFields }, e.content);
    if (iriOnly.length > 0) {
      const fields: Record<string, string> = {};
      const drop = new Set([...(e.contentFields ?? []), 'contentTruncated']);
      for (const [k, v] of Object.entries(e.fields)) if (!drop.has(k)) fields[k] = v;
      this.emit(e, iriOnly, { ...fields, ...flowFields }, undefined);
      this.c.iriOnlyEvents++;
    }
  }

  /** Adds the e-mail-target tasks the event names and the flow's own matches do not already hold. */
  private emailMatches(e: AppEvent, content: Match[], iriOnly: Match[]): void {
    const f = e.fields;
    const key = (a: string | undefined) => (a === undefined || a === '' ? undefined : emailKey(a, this.options.emailLocalPart));
    const found = new Map<bigint, Direction>();
    const add = (addr: string | undefined, d: Direction) => {
      const k = key(addr);
      const ids = k === undefined ? undefined : this.emails.get(k);
      for (const id of ids ?? []) if (!found.has(id) || d === Direction.DIRECTION_FROM_TARGET) found.set(id, d);
    };
    // The user name is the mailbox: its owner sends (SMTP AUTH), logs on, or receives (a download).
    const userSends = e.protocol === 'smtp' || f.kind === 'logon';
    add(f.username, userSends ? Direction.DIRECTION_FROM_TARGET : Direction.DIRECTION_TO_TARGET);
    for (const r of (f.recipients ?? '').split(',')) add(r, Direction.DIRECTION_TO_TARGET);
    add(f.sender, Direction.DIRECTION_FROM_TARGET);
    for (const [taskId, direction] of found) {
      const policy = this.policies.get(taskId);
      if (!policy || content.some((m) => m.taskId === taskId) || iriOnly.some((m) => m.taskId === taskId)) continue;
      (policy.content ? content : iriOnly).push({ taskId, direction, sessionKey: '' });
      this.c.emailMatches++;
    }
  }

  /** Appends one IriEvent, cut to fit a batch (see the file comment). */
  private emit(e: AppEvent, matches: Match[], fields: Record<string, string>, content: Uint8Array | undefined): void {
    matches.sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
    if (this.fitFields(fields)) this.c.fieldsCut++;
    let data = content;
    const overhead = EVENT_OVERHEAD_BYTES + utf8Bytes(e.protocol) + matches.reduce((n, m) => n + MATCH_OVERHEAD_BYTES + utf8Bytes(m.sessionKey), 0);
    const room = Math.min(MAX_IRI_CONTENT_BYTES, MAX_IRI_EVENT_BYTES - overhead - fieldsSize(fields));
    if (data && data.length > room) {
      data = data.subarray(0, room);
      fields.contentTruncated = 'true';
      this.c.contentCut++;
    }
    this.c.iriEvents++;
    this.out.push({
      timeUs: e.timeUs,
      kind: {
        $case: 'iri',
        iri: { matches, protocol: e.protocol, fields, content: data ? Buffer.from(data.buffer, data.byteOffset, data.length) : Buffer.alloc(0) },
      },
    });
  }

  /** Cuts the longest values until the fields fit MAX_IRI_FIELDS_BYTES; whether any was cut. */
  private fitFields(fields: Record<string, string>): boolean {
    let cut = false;
    while (fieldsSize(fields) > MAX_IRI_FIELDS_BYTES) {
      const [k, v] = Object.entries(fields).reduce((a, b) => (b[1].length > a[1].length ? b : a));
      if (v.length === 0) break;
      fields[k] = [...v].slice(0, Math.floor(v.length / 2)).join('');
      cut = true;
    }
    return cut;
  }
}

/**
 * A match's direction (relative to the packet sent by `tagSide`) as the event's (see the file
 * comment): relative to the flow's client, reversed for downloads.
 */
function flowDirection(d: Direction, tagSide: 'client' | 'server', reversed: boolean): Direction {
  if (d !== Direction.DIRECTION_FROM_TARGET && d !== Direction.DIRECTION_TO_TARGET) return d;
  const targetIsClient = (d === Direction.DIRECTION_FROM_TARGET) === (tagSide === 'client');
  return targetIsClient !== reversed ? Direction.DIRECTION_FROM_TARGET : Direction.DIRECTION_TO_TARGET;
}

/** A packet event: the IP packet from its header (a view into the frame), or its headers only. */
function packetEvent(p: DecodedPacket, timeUs: bigint, matches: Match[], headersOnly: boolean): Event {
  const full = Buffer.from(p.frame.buffer, p.frame.byteOffset + p.ipOffset, p.ipBytes);
  const data = headersOnly ? full.subarray(0, headerLength(full)) : full;
  const cut = data.length < p.ipLength;
  return { timeUs, kind: { $case: 'packet', packet: { matches, data, originalLength: cut ? p.ipLength : 0 } } };
}
