/**
 * A warrant's life through the command line while traffic flows (issue 7's must-show): a
 * mediator with an admin listener (in this process), the reference LEMF, and `lig probe` as a
 * process on a TZSP source that the test feeds without pause with packets naming themselves
 * (label and round). Everything on 127.0.0.1 with certificates made at test time.
 *
 * `lig warrant add` leaves it pending and nothing of its target reaches the LEMF; after
 * `lig warrant activate` the probe is given the task and its CC arrives, none of it sent
 * before the activation began; after `lig warrant stop` nothing sent after the command
 * returned arrives (a static intercept's packets, sent later through the same probe and
 * journal, prove the stream went on); a warrant ending a few seconds ahead stops by itself
 * (state expired) and nothing captured after its end time arrives. An auditor certificate
 * cannot change a warrant, a probe certificate cannot even list them; `lig audit verify`
 * passes on the untouched log (through the API and offline) and fails, naming the entry,
 * once a byte of it is changed. An iri-only warrant made with `--reports summary
 * --summary-interval 90s` reaches a probe's task list over the ingest gRPC (a ProbeClient,
 * as `lig probe` sees it) as REPORT_MODE_SUMMARY every 90 s, and `modify` changes that at the
 * probe at once. Every wait is on an event (a record, a process exit, a task list change);
 * nothing is timed.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseMediatorConfig } from '../../src/config';
import { ReportMode, type Task, type TaskList, Task_Type } from '../../src/gen/lig/v1/ingest';
import type { Lemf } from '../../src/lemf';
import { Mediator } from '../../src/mediation/mediator';
import { ProbeClient } from '../../src/probe/client';
import { type LigProcess, lig, lineMatching, stop } from '../helpers/lig-process';
import { Hi3Records, Traffic, adminConfigYaml, run, type Ran } from './admin-helpers';
import { LIID_CC, type Setup, setup, startLemf } from './mediator-helpers';

const TARGET_W = '203.0.113.10';
const TARGET_E = '203.0.113.20';
const STATIC = '192.0.2.7';

describe('warrants through the CLI while traffic flows', function () {
  let s: Setup;
  let lemf: Lemf;
  let mediator: Mediator;
  let probe: LigProcess;
  let traffic: Traffic;
  let got: Hi3Records;
  let dataDir: string;
  let adminFlags: string[];
  const logs: string[] = [];

  /** `lig warrant …` as the admin (or `name`), to its end. */
  const warrant = (args: string[], name = 'admin'): Promise<Ran> => run(['warrant', ...args, ...adminFlags, '--name', name]);
  const ok = (r: Ran, what: string): Ran => {
    assert.equal(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout.join('\n')}\nstderr: ${r.stderr}`);
    return r;
  };
  const json = (r: Ran) => JSON.parse(r.stdout.join('\n')) as Record<string, unknown>;
  /** The next round sent after this call, and the next static packet after it arriving at the LEMF. */
  const staticAfter = (round: number) => got.waitFor((g) => g.liid === LIID_CC && g.round > round);

  before(async () => {
    s = await setup('lig-warrant-cli-');
    const out = path.join(s.tmp, 'lemf');
    lemf = await startLemf(s, out);
    got = new Hi3Records(lemf, out);
    dataDir = path.join(s.tmp, 'data');
    mediator = await Mediator.start(parseMediatorConfig(adminConfigYaml(s, lemf, dataDir), 'warrant-cli.yaml'), {
      deliveryTuning: { backoffInitialMs: 20, backoffMaxMs: 200 },
      log: (l, m) => logs.push(`${l}: ${m}`),
    });
    const a = mediator.adminAddress!;
    adminFlags = ['--admin', `${a.host}:${a.port}`, '--certs', s.pki.dir, '--servername', 'localhost'];
    const leaf = s.pki.probes['probe-1']!;
    const ingest = mediator.ingestAddress!;
    probe = lig(['probe', '--mediator', `127.0.0.1:${ingest.port}`, '--source', 'tzsp:127.0.0.1:0', '--ca', s.pki.ca, '--cert', leaf.cert, '--key', leaf.key, '--servername', 'localhost', '--spool', path.join(s.tmp, 'spool')]);
    const m = await lineMatching(probe, /^tzsp listening on 127\.0\.0\.1:(\d+)$/);
    assert.ok(m, `lig probe: ${probe.stderr}`);
    traffic = new Traffic(Number(m[1]), { W: TARGET_W, E: TARGET_E, S: STATIC });
    // The static intercept's packets arriving: probe, mediator, journal and LEMF all carry traffic.
    await staticAfter(0);
  });
  after(async () => {
    await traffic?.stop();
    if (probe && !probe.ended) await stop(probe, 'SIGTERM');
    got?.close();
    await mediator?.close();
    await lemf?.close().catch(() => undefined);
    fs.rmSync(s.tmp, { recursive: true, force: true });
  });

  let wId = 0;

  it('pending: nothing; activated: the probe intercepts it from then on; stopped: nothing sent afterwards arrives', async () => {
    const added = ok(
      await warrant([
        'add', '--liid', 'LIID-CLI-W', '--agency', 'lea-1', '--type', 'content', '--target', `ip:${TARGET_W}`, '--end', '+1h', '--country', 'DE',
        '--order', 'ORDER-7', '--authority', 'Judge Seven', '--officer', 'Officer Seven', '--employee', 'Employee Seven', '--json',
      ]),
      'add',
    );
    const w = json(added);
    wId = w.id as number;
    assert.equal(w.state, 'pending');
    // While it is pending the target's traffic keeps flowing past the probe; later static
    // packets arriving prove that earlier target packets had every chance to arrive too.
    await staticAfter(traffic.round + 10);
    assert.equal(got.of('LIID-CLI-W').length, 0, 'nothing delivered for a pending warrant');

    const beforeActivate = traffic.round;
    const activated = ok(await warrant(['activate', String(wId)]), 'activate');
    assert.match(activated.stdout[0]!, new RegExp(`^warrant ${wId} activated by admin: in force until `));
    const first = await got.waitFor((g) => g.liid === 'LIID-CLI-W');
    assert.equal(first.label, 'W', 'only the target\'s packets under its LIID');
    assert.ok(got.of('LIID-CLI-W').every((g) => g.round >= beforeActivate), 'nothing sent before the activation began was delivered');

    // The probe and the agency as the API shows them.
    const probes = json(ok(await run(['probe', 'list', '--json', ...adminFlags]), 'probe list')) as unknown as { name: string; connected: boolean; sourceKind: string; lastBatch: string | null }[];
    assert.deepEqual(probes.map((p) => [p.name, p.connected, p.sourceKind]), [['probe-1', true, 'tzsp']]);
    assert.ok(probes[0]!.lastBatch, 'it has sent batches');
    const agencies = ok(await run(['agency', 'list', ...adminFlags]), 'agency list');
    assert.match(agencies.stdout.join('\n'), /^lea-1 +tcp +hi3 +connected /m);

    const stopped = ok(await warrant(['stop', String(wId), '--reason', 'order withdrawn']), 'stop');
    assert.equal(stopped.stdout[0], `warrant ${wId} stopped by admin`);
    const afterStop = traffic.round;
    await staticAfter(afterStop + 20);
    const late = got.of('LIID-CLI-W').filter((g) => g.round > afterStop);
    assert.deepEqual(late, [], 'nothing sent after `lig warrant stop` returned was delivered');
    assert.ok(got.of('LIID-CLI-W').length > 0);
    const shown = json(ok(await warrant(['show', String(wId), '--json'], 'auditor'), 'show'));
    assert.deepEqual([shown.state, shown.endedBy, shown.endReason], ['stopped', 'admin', 'order withdrawn']);
  });

  it('a warrant whose end time comes stops by itself: state expired, nothing captured after its end delivered', async () => {
    const added = json(ok(await warrant([
      'add', '--liid', 'LIID-CLI-E', '--agency', 'lea-1', '--type', 'content', '--target', `ip:${TARGET_E}`, '--end', '+4s', '--country', 'DE',
      '--order', 'ORDER-8', '--authority', 'Judge Eight', '--officer', 'Officer Eight', '--employee', 'Employee Eight', '--json',
    ]), 'add'));
    const id = added.id as number;
    const endUs = Date.parse(added.endTime as string) * 1000;
    // The probe's task list changes twice: at activation, and when the warrant expires.
    const changes: number[] = [];
    const expired = new Promise<void>((resolve) => {
      const off = mediator.handler.onTasksChanged(() => {
        changes.push(traffic.round);
        if (changes.length === 2) {
          off();
          resolve();
        }
      });
    });
    ok(await warrant(['activate', String(id)]), 'activate');
    await got.waitFor((g) => g.liid === 'LIID-CLI-E');
    await expired;
    const shown = json(ok(await warrant(['show', String(id), '--json']), 'show'));
    assert.equal(shown.state, 'expired');
    assert.equal(shown.endedBy, null, 'expired, not stopped by anyone');
    await staticAfter(changes[1]! + 20);
    const records = got.of('LIID-CLI-E');
    assert.ok(records.length > 0);
    assert.ok(records.every((g) => g.timeUs < endUs), 'nothing captured at or after the end time');
    assert.ok(records.every((g) => g.round <= changes[1]!), 'nothing sent after the task was withdrawn');
  });

  it('an auditor certificate cannot change a warrant; a probe certificate cannot use the API at all', async () => {
    const created = json(ok(await warrant([
      'add', '--liid', 'LIID-CLI-A', '--agency', 'lea-1', '--type', 'iri-only', '--target', 'user:someone', '--end', '+1h', '--country', 'DE',
      '--order', 'O', '--authority', 'A', '--officer', 'B', '--employee', 'C', '--json',
    ]), 'add'));
    const id = String(created.id);
    for (const args of [['activate', id], ['stop', id], ['modify', id, '--end', '+2h'], ['add', '--liid', 'LIID-CLI-X', '--agency', 'lea-1', '--type', 'content', '--target', 'ip:203.0.113.30', '--end', '+1h', '--country', 'DE', '--order', 'O', '--authority', 'A', '--officer', 'B', '--employee', 'C']]) {
      const r = await warrant(args, 'auditor');
      assert.equal(r.code, 1, `auditor ${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /\[LIG_ERR_ADMIN_DENIED\]/);
    }
    const after = json(ok(await warrant(['show', id, '--json'], 'auditor'), 'show'));
    assert.deepEqual([after.state, after.version], ['pending', created.version], 'nothing changed');
    const list = ok(await warrant(['list', '--state', 'pending'], 'auditor'), 'list');
    assert.equal(list.stdout.filter((l) => l.includes('LIID-CLI-X')).length, 0, 'nothing created');
    const denied = mediator.provisioning.audit.entries().filter((e) => e.action === 'admin.denied' && e.subject === 'peer/auditor');
    assert.deepEqual(new Set(denied.map((e) => (e.after as { call: string }).call)), new Set(['activateWarrant', 'stopWarrant', 'modifyWarrant', 'createWarrant']));

    const asProbe = await warrant(['list'], 'probe-1');
    assert.equal(asProbe.code, 1);
    assert.match(asProbe.stderr, /\[LIG_ERR_ADMIN_DENIED\]/);
    assert.ok(!asProbe.stderr.includes('LIID-CLI') && asProbe.stdout.length === 0, 'no warrant data for a probe');
  });

  it('an iri-only warrant with --reports summary reaches a probe\'s tasks as REPORT_MODE_SUMMARY with its interval; modify changes it there', async () => {
    // A second probe, seeing its tasks over the ingest gRPC as `lig probe` does; the warrant is for it alone.
    const leaf = s.pki.probes['probe-2']!;
    const p2 = await ProbeClient.open({
      mediator: { address: { host: '127.0.0.1', port: mediator.ingestAddress!.port }, tls: { ca: s.pki.ca, cert: leaf.cert, key: leaf.key, servername: 'localhost' } },
      spool: { dir: path.join(s.tmp, 'spool-probe-2') },
      sourceKind: 'tzsp',
      backoff: { initialMs: 5, maxMs: 50 },
      log: (l, m) => logs.push(`probe-2 ${l}: ${m}`),
    });
    try {
      const mine = (l: TaskList | undefined): Task | undefined =>
        l?.tasks.find((t) => t.targets.some((x) => x.kind?.$case === 'username' && x.kind.username === 'reports-target'));
      /** The warrant's task in the first task list (the current one included) for which `pred` holds. */
      const taskWhen = (pred: (t: Task | undefined) => boolean): Promise<Task | undefined> =>
        new Promise((resolve) => {
          if (p2.tasks && pred(mine(p2.tasks))) return resolve(mine(p2.tasks));
          const on = (l: TaskList) => {
            if (!pred(mine(l))) return;
            p2.off('tasks', on);
            resolve(mine(l));
          };
          p2.on('tasks', on);
        });
      await taskWhen(() => true);
      assert.equal(mine(p2.tasks), undefined, 'no task before the warrant');

      const added = json(ok(await warrant([
        'add', '--liid', 'LIID-CLI-R', '--agency', 'lea-1', '--type', 'iri-only', '--target', 'user:reports-target', '--end', '+1h', '--country', 'DE',
        '--order', 'ORDER-R', '--authority', 'Judge R', '--officer', 'Officer R', '--employee', 'Employee R', '--probe', 'probe-2',
        '--reports', 'summary', '--summary-interval', '90s', '--json',
      ]), 'add'));
      assert.deepEqual(added.reports, { mode: 'summary', intervalSeconds: 90 });
      const id = String(added.id);
      const shown = ok(await warrant(['show', id], 'auditor'), 'show');
      assert.ok(shown.stdout.includes('reports    summary, summary interval 1m30s'), shown.stdout.join('\n'));

      ok(await warrant(['activate', id]), 'activate');
      const t = await taskWhen((x) => x !== undefined);
      assert.deepEqual([t!.type, t!.reportMode, t!.summaryIntervalSeconds], [Task_Type.TYPE_IRI_ONLY, ReportMode.REPORT_MODE_SUMMARY, 90]);

      const modified = json(ok(await warrant(['modify', id, '--reports', 'both', '--summary-interval', '30s', '--json']), 'modify'));
      assert.deepEqual(modified.reports, { mode: 'both', intervalSeconds: 30 });
      const t2 = await taskWhen((x) => x?.reportMode === ReportMode.REPORT_MODE_BOTH);
      assert.deepEqual([t2!.taskId, t2!.summaryIntervalSeconds], [t!.taskId, 30], 'the same task, its new mode');
      const entry = mediator.provisioning.audit.entries().filter((e) => e.action === 'warrant.modify' && e.subject === `warrant/${id}`).at(-1)!;
      assert.deepEqual([(entry.before as { reports: unknown }).reports, (entry.after as { reports: unknown }).reports], [
        { mode: 'summary', intervalSeconds: 90 },
        { mode: 'both', intervalSeconds: 30 },
      ]);

      // A content warrant with a reporting mode is refused by the mediator; a bad mode by the CLI.
      const content = await warrant([
        'add', '--liid', 'LIID-CLI-RC', '--agency', 'lea-1', '--type', 'content', '--target', 'ip:203.0.113.40', '--end', '+1h', '--country', 'DE',
        '--order', 'O', '--authority', 'A', '--officer', 'B', '--employee', 'C', '--reports', 'summary',
      ]);
      assert.equal(content.code, 1, content.stderr);
      assert.match(content.stderr, /reports: applies to iri-only warrants only.*\n?.*\[LIG_ERR_WARRANT_INVALID\]/s);
      const usage = await warrant(['modify', id, '--reports', 'everything']);
      assert.equal(usage.code, 2, usage.stderr);
      assert.match(usage.stderr, /--reports must be headers, summary or both/);

      ok(await warrant(['stop', id]), 'stop');
      await taskWhen((x) => x === undefined);
    } finally {
      await p2.close();
    }
  });

  it('lig audit verify passes on the untouched log and fails naming the entry after one byte changed', async () => {
    const viaApi = ok(await run(['audit', 'verify', ...adminFlags, '--name', 'auditor']), 'audit verify');
    assert.match(viaApi.stdout[0]!, /^audit log verified: \d+ entries, hash chain intact/);
    await traffic.stop();
    await mediator.close();
    const file = path.join(dataDir, 'audit.log');
    const offline = ok(await run(['audit', 'verify', '--file', file, '--json']), 'audit verify --file');
    const r = JSON.parse(offline.stdout.join('\n')) as { ok: boolean; entries: number; anchor: unknown };
    assert.ok(r.ok && r.entries > 10 && r.anchor);

    // Change one byte inside the entry recording the activation of the first warrant.
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const n = lines.findIndex((l) => l.includes('"action":"warrant.activate"') && l.includes(`"subject":"warrant/${wId}"`));
    assert.ok(n >= 0);
    const at = lines[n]!.indexOf('"actor":"admin"') + '"actor":"a'.length;
    lines[n] = `${lines[n]!.slice(0, at)}x${lines[n]!.slice(at + 1)}`;
    fs.writeFileSync(file, lines.join('\n'));
    const broken = await run(['audit', 'verify', '--file', file]);
    assert.equal(broken.code, 1, broken.stderr);
    assert.match(broken.stderr, new RegExp(`entry ${n + 1} altered: .*\\[LIG_ERR_AUDIT_BROKEN\\]`));
  });
});

