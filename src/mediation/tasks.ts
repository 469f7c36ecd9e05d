/**
 * Intercepts → the task lists probes receive. A probe learns only what it must look for: an
 * opaque task id, the task type (content or IRI only), the targets and, for IRI-only tasks,
 * the reporting mode and summary interval; never a LIID or an agency. An intercept with `probes` goes to those probes only, any other to every probe.
 *
 * Task ids are random 63-bit numbers, one per intercept (agency + LIID), kept in
 * DATADIR/tasks.json so they stay the same across restarts: batches a probe spooled before a
 * restart still name the right intercept afterwards. Ids are never reused for another
 * intercept, even after one is removed.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Intercept, InterceptReports, Target as ConfigTarget } from '../config';
import { DEFAULT_REPORT_MODE, DEFAULT_SUMMARY_INTERVAL } from '../config/mediator';
import { ipBytes } from '../config/targets';
import { ReportMode, Task, Task_Type, type Target, type TaskList } from '../gen/lig/v1/ingest';
import { damaged, readStateFile, writeStateFile } from './state-file';

export const TASKS_FILE = 'tasks.json';
const FILE_VERSION = 1;
/** Task ids stay within a signed 64-bit range, for tools that read them as int64. */
const MAX_TASK_ID = (1n << 63n) - 1n;

/** The key of an intercept: its agency and LIID (LIIDs are unique per agency). */
export const interceptKey = (agency: string, liid: string): string => `${agency}\u0000${liid}`;

interface StoredTask {
  agency: string;
  liid: string;
  id: string;
}

/** The persisted map intercept → task id. */
export class TaskIds {
  private readonly ids = new Map<string, bigint>();
  private readonly used = new Set<bigint>();

  private constructor(readonly file: string) {}

  /** Loads DATADIR/tasks.json (none yet: empty). Throws MEDIATION_STATE when it is damaged. */
  static async open(dataDir: string): Promise<TaskIds> {
    const t = new TaskIds(path.join(dataDir, TASKS_FILE));
    const raw = await readStateFile(t.file);
    if (raw === undefined) return t;
    const v = raw as { version?: unknown; tasks?: unknown };
    if (v.version !== FILE_VERSION || !Array.isArray(v.tasks)) throw damaged(t.file, `expected version ${FILE_VERSION} and a list of tasks`);
    for (const e of v.tasks as StoredTask[]) {
      if (typeof e?.agency !== 'string' || typeof e.liid !== 'string' || typeof e.id !== 'string' || !/^[1-9]\d{0,18}$/.test(e.id)) {
        throw damaged(t.file, 'a task entry is not { agency, liid, id }');
      }
      const id = BigInt(e.id);
      const key = interceptKey(e.agency, e.liid);
      if (id > MAX_TASK_ID || t.used.has(id) || t.ids.has(key)) throw damaged(t.file, 'a task id or intercept is listed twice, or an id is out of range');
      t.ids.set(key, id);
      t.used.add(id);
    }
    return t;
  }

  get(agency: string, liid: string): bigint | undefined {
    return this.ids.get(interceptKey(agency, liid));
  }

  /** Gives every intercept an id, and persists the file before returning if any was new. */
  async assign(intercepts: readonly Pick<Intercept, 'agency' | 'liid'>[]): Promise<void> {
    let added = false;
    for (const i of intercepts) {
      const key = interceptKey(i.agency, i.liid);
      if (this.ids.has(key)) continue;
      let id: bigint;
      do id = randomBytes(8).readBigUInt64BE() & MAX_TASK_ID;
      while (id === 0n || this.used.has(id));
      this.ids.set(key, id);
      this.used.add(id);
      added = true;
    }
    if (!added) return;
    const tasks: StoredTask[] = [...this.ids].map(([key, id]) => {
      const [agency, liid] = key.split('\u0000') as [string, string];
      return { agency, liid, id: id.toString() };
    });
    await writeStateFile(this.file, { version: FILE_VERSION, tasks });
  }
}

/** One intercept as the core uses it: what its task id resolves to. */
export interface TaskEntry {
  taskId: bigint;
  intercept: Intercept;
}

/**
 * An immutable view of the intercepts: every probe's task list, and task id → intercept for
 * one probe (a task id a probe was not given resolves to nothing for it).
 */
export class TaskTable {
  private readonly byId = new Map<bigint, TaskEntry>();
  private readonly byKey = new Map<string, TaskEntry>();
  private readonly lists = new Map<string, TaskList>();

  /** `ids` must hold an id for every intercept (TaskIds.assign). */
  constructor(
    intercepts: readonly Intercept[],
    ids: TaskIds,
    readonly version: bigint,
  ) {
    for (const intercept of intercepts) {
      const taskId = ids.get(intercept.agency, intercept.liid);
      if (taskId === undefined) throw new Error(`no task id for an intercept of agency ${intercept.agency}`);
      this.byId.set(taskId, { taskId, intercept });
      this.byKey.set(interceptKey(intercept.agency, intercept.liid), { taskId, intercept });
    }
  }

  /** The entry of an intercept (agency, LIID), whichever probes watch it. */
  entry(agency: string, liid: string): TaskEntry | undefined {
    return this.byKey.get(interceptKey(agency, liid));
  }

  /** The intercepts `probe` watches. */
  watchedBy(probe: string): TaskEntry[] {
    return [...this.byId.values()].filter((e) => watches(e.intercept, probe));
  }

  /** The task list of `probe`: only the intercepts it must watch for. */
  listFor(probe: string): TaskList {
    let list = this.lists.get(probe);
    if (!list) {
      const tasks: Task[] = [];
      for (const e of this.byId.values()) if (watches(e.intercept, probe)) tasks.push(toTask(e));
      list = { version: this.version, tasks, sessions: [] };
      this.lists.set(probe, list);
    }
    return list;
  }

  /** The intercept behind `taskId` if `probe` was given that task; undefined otherwise. */
  resolve(probe: string, taskId: bigint): TaskEntry | undefined {
    const e = this.byId.get(taskId);
    return e && watches(e.intercept, probe) ? e : undefined;
  }

  /** True when `probe`'s list differs between this table and `other` (ignoring the version). */
  differsFor(probe: string, other: TaskTable): boolean {
    const a = this.listFor(probe).tasks;
    const b = other.listFor(probe).tasks;
    if (a.length !== b.length) return true;
    const key = (t: Task) => Buffer.from(Task.encode(t).finish()).toString('hex');
    const mine = new Set(a.map(key));
    return b.some((t) => !mine.has(key(t)));
  }
}

function watches(i: Intercept, probe: string): boolean {
  return i.probes === undefined || i.probes.includes(probe);
}

function toTask(e: TaskEntry): Task {
  const t: Task = {
    taskId: e.taskId,
    type: e.intercept.type === 'content' ? Task_Type.TYPE_CONTENT : Task_Type.TYPE_IRI_ONLY,
    targets: e.intercept.targets.map(toTarget),
  };
  if (e.intercept.type === 'iri-only') {
    const r = reportsOf(e.intercept);
    t.reportMode = REPORT_MODES[r.mode];
    t.summaryIntervalSeconds = Math.round(r.interval / 1000);
  }
  return t;
}

const REPORT_MODES = { headers: ReportMode.REPORT_MODE_HEADERS, summary: ReportMode.REPORT_MODE_SUMMARY, both: ReportMode.REPORT_MODE_BOTH } as const;

/** An IRI-only intercept's reporting (the config's, else the defaults); meaningless for a content intercept. */
export function reportsOf(i: Intercept): InterceptReports {
  return i.reports ?? { mode: DEFAULT_REPORT_MODE, interval: DEFAULT_SUMMARY_INTERVAL };
}

/** A config target as the probe receives it. */
export function toTarget(t: ConfigTarget): Target {
  switch (t.kind) {
    case 'ip':
      return { kind: { $case: 'ip', ip: { address: Buffer.from(ipBytes(t.address)!), prefixLength: t.prefixLength } } };
    case 'mac':
      return { kind: { $case: 'mac', mac: Buffer.from(t.mac.split(':').map((h) => parseInt(h, 16))) } };
    case 'username':
      return { kind: { $case: 'username', username: t.username } };
    case 'email':
      return { kind: { $case: 'email', email: t.email } };
  }
}
