/**
 * What a probe agent reports about itself: its counters (AgentStats) and the one-line status
 * it logs periodically at info level. Counts and states only: never an address, a target, a
 * task id or anything else from the task list.
 */
import type { SourceCounters, SourceKind } from '../capture/source';
import type { CccidCounts } from './agent-source';
import type { DropReason } from './batcher';
import type { PipelineCounters } from './pipeline';

/**
 * waiting-for-tasks: a pcap replay waits for the mediator's first task list; starting: a live
 * source is being opened; capturing; draining: the source has ended or was stopped, batches
 * are being acknowledged; stopped.
 */
export type AgentState = 'waiting-for-tasks' | 'starting' | 'capturing' | 'draining' | 'stopped';

export interface AgentStats extends PipelineCounters {
  state: AgentState;
  sourceKind: SourceKind;
  /** The source's own counters (frames queued, lost to a full queue, malformed input, skipped input); undefined before it started. */
  source: SourceCounters | undefined;
  /** ccc: the CCCIDs seen (see agent-source.ts). */
  ccc: CccidCounts | undefined;
  /** Events the client took. */
  eventsSubmitted: number;
  /** Events lost (every reason; spoolFull is the spool being full). Non-zero means the interception is incomplete. */
  eventsDropped: number;
  dropped: Record<DropReason, number>;
  /** Batches the mediator acknowledged since the agent started. */
  batchesAcked: bigint;
  /** Batches stored in the spool and not acknowledged (including those of earlier runs). */
  unackedBatches: bigint;
  connected: boolean;
  /** Tasks in the list in force (0 before the first list). */
  tasks: number;
  taskListVersion: bigint | undefined;
}

function plural(n: number | bigint, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 || n === 1n ? one : many}`;
}

/** The status line, e.g. "capturing (pcap): 1200 frames (1180 decoded, 20 undecodable), 40 matched, ...". */
export function formatAgentStatus(s: AgentStats): string {
  const lost = s.source?.dropped ?? 0;
  const parts = [
    `${plural(s.frames, 'frame')} (${s.decoded} decoded, ${s.undecodable} undecodable)`,
    `${s.matched} matched`,
    `${plural(s.eventsSubmitted, 'event')} submitted`,
    `${s.eventsDropped} dropped`,
    `${plural(s.batchesAcked, 'batch', 'batches')} acked (${s.unackedBatches} unacked)`,
    `${plural(s.tasks, 'task')}`,
    s.connected ? 'mediator connected' : 'mediator not connected',
  ];
  if (lost > 0) parts.splice(1, 0, `${lost} lost by the source`);
  if (s.ccc) parts.push(`${plural(s.ccc.cccids, 'CCCID')} seen`);
  const id = s.identity;
  const aaa = id.radius.packets + id.dhcp.packets;
  if (aaa > 0 || id.sessions > 0) {
    const malformed = Object.values(id.malformed).reduce((n, k) => n + k, 0) + id.fragments;
    const extra = [malformed > 0 ? `${malformed} unreadable` : '', id.evicted > 0 ? `${id.evicted} evicted` : ''].filter((x) => x !== '');
    parts.push(`identity: ${id.radius.packets} RADIUS, ${id.dhcp.packets} DHCP${extra.length > 0 ? ` (${extra.join(', ')})` : ''}, ${plural(id.sessions, 'session')}, ${plural(id.events, 'identity event')}`);
  }
  const app = applicationsPart(s);
  if (app) parts.push(app);
  return `${s.state} (${s.sourceKind}): ${parts.join(', ')}`;
}

/** "applications: 12 IRI events (2 by e-mail target), 3 flows, ..." once the stage made anything. */
function applicationsPart(s: AgentStats): string | undefined {
  const a = s.app;
  const sm = a.summaries;
  const summaries = sm.start + sm.timer + sm.end + sm.timeout + sm.reportEnd;
  if (a.iriEvents === 0 && a.headerPackets === 0 && a.withheldPackets === 0 && summaries === 0 && a.mail.packets === 0) return undefined;
  let malformed = 0;
  for (const t of [a.flows, a.mail]) for (const c of Object.values(t.protocols)) malformed += c.malformed;
  const extra = [
    a.emailMatches > 0 ? `${a.emailMatches} by e-mail target` : '',
    a.iriOnlyEvents > 0 ? `${a.iriOnlyEvents} IRI-only` : '',
    a.fieldsCut + a.contentCut > 0 ? `${a.fieldsCut + a.contentCut} cut` : '',
  ].filter((x) => x !== '');
  const parts = [
    `${plural(a.iriEvents, 'IRI event')}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`,
    `${plural(a.flows.flows + a.mail.flows, 'flow')} open`,
  ];
  if (a.mail.packets > 0) parts.push(`${plural(a.mail.packets, 'mail packet')} read for e-mail targets`);
  if (malformed > 0) parts.push(`${malformed} malformed`);
  const evicted = a.flows.evicted + a.mail.evicted + sm.evicted;
  if (evicted > 0) parts.push(`${evicted} flows evicted`);
  if (a.headerPackets > 0) parts.push(`${plural(a.headerPackets, 'header-only packet')}`);
  if (a.withheldPackets > 0) parts.push(`${a.withheldPackets} packets summarised only`);
  if (summaries > 0) parts.push(`${plural(summaries, 'flow summary', 'flow summaries')} (${plural(sm.flows, 'flow')} summarised)`);
  return `applications: ${parts.join(', ')}`;
}
