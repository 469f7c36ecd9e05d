/**
 * HI1 notifications end to end: a mediator (in this process) whose agency has
 * hi1Notifications, the reference LEMF over mutual TLS, warrants changed through the admin
 * API. Activation, a change while in force, a stop and an expiry each reach the LEMF as
 * liActivated / liModified / liDeactivated on HI2, which records them; they carry the LIID and
 * the targets, no CIN, and are numbered 0, 1, 2, … per LIID. A pending warrant's creation and
 * changes send nothing. Without the setting (notifyHi1 on a real core) nothing is sent.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMediatorConfig } from '../../src/config';
import { decodeStream } from '../../src/etsi';
import { hi1OperationName } from '../../src/etsi/hi1';
import { decodePsPdu } from '../../src/etsi';
import { RAW_FILES, type Lemf } from '../../src/lemf';
import { Mediator } from '../../src/mediation/mediator';
import { AdminClient } from '../../src/provisioning/admin-client';
import { notifyHi1 } from '../../src/provisioning/hi1-notify';
import type { Warrant } from '../../src/provisioning';
import { TestCore, agencyTcp, intercept } from '../mediation-fixtures';
import { adminConfigYaml, warrantRequest } from './admin-helpers';
import { until } from './ingest-helpers';
import { type Setup, setup, startLemf } from './mediator-helpers';

/** Resolves once the LEMF has recorded `n` HI1 notifications `op` for `liid` (waits on its 'pdu' events). */
function hi1Count(lemf: Lemf, liid: string, op: string, n: number): Promise<void> {
  return until(lemf, 'pdu', () => (lemf.summary().records[liid]?.hi1?.[op] ?? 0) >= n);
}

interface Hi1Pdu {
  liid: string;
  seq: number;
  cin: number | undefined;
  op: string;
  targetInformation: string | undefined;
}

/** The HI1 notifications the LEMF stored on HI2, in arrival order. */
function storedHi1(out: string): Hi1Pdu[] {
  const got: Hi1Pdu[] = [];
  for (const e of decodeStream(fs.readFileSync(path.join(out, RAW_FILES.hi2)))) {
    if (e.error) throw e.error;
    const pdu = decodePsPdu(e.bytes) as unknown as {
      pSHeader: { lawfulInterceptionIdentifier: Buffer; sequenceNumber: number; communicationIdentifier?: { communicationIdentityNumber?: number } };
      payload: Record<string, Record<string, { 'target-Information'?: Buffer; lawfulInterceptionIdentifier?: Buffer }>>;
    };
    const op = pdu.payload['hI1-Operation'];
    if (!op) continue;
    const name = hi1OperationName(op);
    got.push({
      liid: pdu.pSHeader.lawfulInterceptionIdentifier.toString('latin1'),
      seq: pdu.pSHeader.sequenceNumber,
      cin: pdu.pSHeader.communicationIdentifier?.communicationIdentityNumber,
      op: name,
      targetInformation: op[name]?.['target-Information']?.toString('latin1'),
    });
  }
  return got;
}

describe('HI1 notifications of warrant changes', function () {
  let s: Setup;
  let lemf: Lemf;
  let mediator: Mediator;
  let admin: AdminClient;
  let out: string;

  before(async () => {
    s = await setup('lig-warrant-hi1-');
    out = path.join(s.tmp, 'lemf');
    lemf = await startLemf(s, out);
    const yaml = adminConfigYaml(s, lemf, path.join(s.tmp, 'data'), '    hi1Notifications: true');
    mediator = await Mediator.start(parseMediatorConfig(yaml, 'hi1.yaml'), { deliveryTuning: { backoffInitialMs: 20, backoffMaxMs: 200 }, log: () => undefined });
    const leaf = s.pki.admin;
    admin = AdminClient.open({ address: mediator.adminAddress!, tls: { ca: s.pki.ca, cert: leaf.cert, key: leaf.key, servername: 'localhost' } });
  });
  after(async () => {
    admin?.close();
    await mediator?.close();
    await lemf?.close().catch(() => undefined);
    fs.rmSync(s.tmp, { recursive: true, force: true });
  });

  it('sends liActivated, liModified and liDeactivated as an operator activates, changes and stops a warrant; the LEMF records them', async () => {
    const w = await admin.createWarrant(warrantRequest('LIID-HI1-A', { targets: [{ kind: { $case: 'ip', ip: '192.0.2.50' } }, { kind: { $case: 'username', username: 'alice' } }] }));
    await admin.modifyWarrant({ id: w.id, targets: undefined, compliance: { orderReference: 'ORDER-1b' }, probes: undefined });
    await admin.activateWarrant(w.id);
    await hi1Count(lemf, 'LIID-HI1-A', 'liActivated', 1);
    await admin.modifyWarrant({ id: w.id, targets: { targets: [{ kind: { $case: 'ip', ip: '192.0.2.51' } }] }, compliance: undefined, probes: undefined });
    await hi1Count(lemf, 'LIID-HI1-A', 'liModified', 1);
    await admin.stopWarrant(w.id, 'done');
    await hi1Count(lemf, 'LIID-HI1-A', 'liDeactivated', 1);
    const got = storedHi1(out).filter((p) => p.liid === 'LIID-HI1-A');
    assert.deepEqual(
      got.map((p) => [p.op, p.seq, p.cin, p.targetInformation]),
      [
        ['liActivated', 0, undefined, 'ip:192.0.2.50,user:alice'],
        ['liModified', 1, undefined, 'ip:192.0.2.51'],
        ['liDeactivated', 2, undefined, 'ip:192.0.2.51'],
      ],
      'one each, in order, numbered from 0 in their own stream, without a CIN; nothing while it was pending',
    );
    assert.deepEqual(lemf.summary().records['LIID-HI1-A']!.hi1, { liActivated: 1, liModified: 1, liDeactivated: 1 });
    const jsonl = fs.readFileSync(path.join(out, 'records.jsonl'), 'utf8');
    assert.equal(jsonl.split('\n').filter((l) => l.includes('hI1-Operation')).length, 3, 'records.jsonl has them (the first HI1 of this mediator)');
  });

  it('sends liDeactivated when a warrant expires by itself', async () => {
    const w = await admin.createWarrant(warrantRequest('LIID-HI1-E', { endTimeMs: BigInt(Date.now() + 2_000) }));
    await admin.activateWarrant(w.id);
    await hi1Count(lemf, 'LIID-HI1-E', 'liDeactivated', 1);
    assert.deepEqual(storedHi1(out).filter((p) => p.liid === 'LIID-HI1-E').map((p) => [p.op, p.seq]), [['liActivated', 0], ['liDeactivated', 1]]);
    assert.equal((await admin.getWarrant(w.id)).endedBy, '', 'expired, not stopped');
  });

  it('keeps a warrant in force across a restart, its task given to probes before ingest opens, without a second liActivated', async () => {
    const w = await admin.createWarrant(warrantRequest('LIID-HI1-R', { targets: [{ kind: { $case: 'username', username: 'restarted' } }] }));
    await admin.activateWarrant(w.id);
    await hi1Count(lemf, 'LIID-HI1-R', 'liActivated', 1);
    admin.close();
    await mediator.close();
    const yaml = adminConfigYaml(s, lemf, path.join(s.tmp, 'data'), '    hi1Notifications: true');
    mediator = await Mediator.start(parseMediatorConfig(yaml, 'hi1.yaml'), { deliveryTuning: { backoffInitialMs: 20, backoffMaxMs: 200 }, log: () => undefined });
    const leaf = s.pki.admin;
    admin = AdminClient.open({ address: mediator.adminAddress!, tls: { ca: s.pki.ca, cert: leaf.cert, key: leaf.key, servername: 'localhost' } });
    assert.deepEqual(mediator.provisioning.inForce.map((x) => x.liid), ['LIID-HI1-R']);
    const tasks = mediator.handler.tasksFor('probe-9').tasks;
    assert.ok(tasks.some((t) => t.targets.some((x) => x.kind?.$case === 'username' && x.kind.username === 'restarted')), 'the warrant is a task again');
    await admin.stopWarrant(w.id);
    await hi1Count(lemf, 'LIID-HI1-R', 'liDeactivated', 1);
    // A record the LEMF had not confirmed before the stop is sent again (same number, same record).
    const bySeq = new Map(storedHi1(out).filter((p) => p.liid === 'LIID-HI1-R').map((p) => [p.seq, p.op]));
    assert.deepEqual([...bySeq], [[0, 'liActivated'], [1, 'liDeactivated']], 'one liActivated; numbering continues after the restart');
    assert.deepEqual(lemf.summary().records['LIID-HI1-R']!.hi1, { liActivated: 1, liDeactivated: 1 });
    const starts = mediator.provisioning.audit.entries().filter((e) => e.action === 'mediator.start');
    assert.equal(starts.length, 2);
  });

  it('sends nothing for an agency without hi1Notifications (on a real core)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-hi1-off-'));
    const core = await TestCore.open(dir, [intercept('LIID-OFF', 'content')]);
    try {
      const w = { id: 9, liid: 'LIID-OFF', agency: 'lea-1', targets: [{ kind: 'username', username: 'x' }] } as unknown as Warrant;
      await notifyHi1(core.handler, [agencyTcp()], { kind: 'activated', warrant: w }, () => undefined);
      assert.equal((await core.records('hi2')).length, 0);
      await notifyHi1(core.handler, [agencyTcp({ hi1Notifications: true })], { kind: 'activated', warrant: w }, () => undefined);
      assert.equal((await core.raw('hi2')).length, 1, 'and one with it');
    } finally {
      await core.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
