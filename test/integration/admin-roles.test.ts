/**
 * The admin API of a real mediator (in this process) over gRPC with mutual TLS on 127.0.0.1,
 * certificates made at test time, delivering to the reference LEMF: an admin may do
 * everything; an auditor may read but every change is refused (PERMISSION_DENIED, nothing
 * changed, each refusal on the audit log); a probe or LEMF certificate cannot use the API at
 * all, not even to read; a certificate from another CA does not get past TLS. Failures come
 * back with their lig codes; the audit log read through the API verifies against its anchor;
 * agencies and probes show their live state. Waits on events only.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { parseMediatorConfig } from '../../src/config';
import { AdminError } from '../../src/errors';
import * as pb from '../../src/gen/lig/v1/admin';
import type { Lemf } from '../../src/lemf';
import { Mediator } from '../../src/mediation/mediator';
import { makeForeignPki, type TestPki } from '../../src/pki';
import { AdminClient } from '../../src/provisioning/admin-client';
import { verifyAudit } from '../../src/provisioning';
import { ProbeClient } from '../../src/probe/client';
import { adminConfigYaml, warrantRequest } from './admin-helpers';
import { LIID_CC, type Setup, setup, startLemf } from './mediator-helpers';

/** The code and gRPC status an admin call failed with. */
async function failure(p: Promise<unknown>): Promise<{ code: string; grpc: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AdminError, `not an AdminError: ${String(e)}`);
    return { code: e.code, grpc: e.grpcCode, message: e.message };
  }
  throw new Error('the call succeeded');
}

describe('admin API: roles over mTLS', function () {
  let s: Setup;
  let lemf: Lemf;
  let mediator: Mediator;
  let admin: AdminClient;
  let auditor: AdminClient;
  const extra: AdminClient[] = [];
  const logs: string[] = [];

  const client = (pki: TestPki, who: 'admin' | 'auditor' | 'probe' | 'lemf' | 'mediator'): AdminClient => {
    const leaf = pki[who];
    const c = AdminClient.open({ address: mediator.adminAddress!, tls: { ca: pki.ca, cert: leaf.cert, key: leaf.key, servername: 'localhost' } });
    extra.push(c);
    return c;
  };
  const entries = () => mediator.provisioning.audit.entries();

  before(async () => {
    s = await setup('lig-admin-roles-');
    lemf = await startLemf(s, path.join(s.tmp, 'lemf'));
    const yaml = adminConfigYaml(s, lemf, path.join(s.tmp, 'data'));
    mediator = await Mediator.start(parseMediatorConfig(yaml, 'admin.yaml'), { deliveryTuning: { backoffInitialMs: 20, backoffMaxMs: 200 }, log: (l, m) => logs.push(`${l}: ${m}`) });
    admin = client(s.pki, 'admin');
    auditor = client(s.pki, 'auditor');
  });
  after(async () => {
    for (const c of extra) c.close();
    await mediator?.close();
    await lemf?.close().catch(() => undefined);
    fs.rmSync(s.tmp, { recursive: true, force: true });
  });

  it('lets an admin create, read and activate; creation leaves a warrant pending', async () => {
    const w = await admin.createWarrant(warrantRequest('LIID-ROLES-1'));
    assert.equal(w.state, pb.WarrantState.WARRANT_STATE_PENDING);
    assert.equal(w.createdBy, 'admin');
    assert.deepEqual((await admin.getWarrant(w.id)).liid, 'LIID-ROLES-1');
    assert.deepEqual((await admin.listWarrants({ state: pb.WarrantState.WARRANT_STATE_PENDING })).map((x) => x.id), [w.id]);
    const a = await admin.activateWarrant(w.id);
    assert.equal(a.state, pb.WarrantState.WARRANT_STATE_ACTIVE);
    assert.equal(a.activatedBy, 'admin');
    assert.deepEqual(mediator.provisioning.inForce.map((x) => x.id), [Number(w.id)], 'in force when activate returned');
  });

  it('lets an auditor read everything, and refuses each change, changing nothing, each refusal on the audit log', async () => {
    const w = await admin.createWarrant(warrantRequest('LIID-ROLES-2'));
    assert.ok((await auditor.listWarrants()).length >= 1);
    assert.equal((await auditor.getWarrant(w.id)).liid, 'LIID-ROLES-2');
    assert.deepEqual((await auditor.listAgencies()).map((a) => a.id), ['lea-1']);
    assert.ok(Array.isArray(await auditor.listProbes()));
    assert.ok((await auditor.auditLog()).text.length > 0);

    const before = entries().length;
    const attempts: [string, Promise<unknown>][] = [
      ['createWarrant', auditor.createWarrant(warrantRequest('LIID-ROLES-AUD'))],
      ['activateWarrant', auditor.activateWarrant(w.id)],
      ['modifyWarrant', auditor.modifyWarrant({ id: w.id, targets: { targets: [{ kind: { $case: 'username', username: 'x' } }] }, compliance: undefined, probes: undefined })],
      ['stopWarrant', auditor.stopWarrant(w.id, 'no')],
    ];
    for (const [call, p] of attempts) {
      const f = await failure(p);
      assert.deepEqual([f.code, f.grpc], ['LIG_ERR_ADMIN_DENIED', Status.PERMISSION_DENIED], call);
    }
    const after = await admin.getWarrant(w.id);
    assert.deepEqual([after.state, after.version], [pb.WarrantState.WARRANT_STATE_PENDING, w.version], 'nothing changed');
    assert.equal((await admin.listWarrants()).filter((x) => x.liid === 'LIID-ROLES-AUD').length, 0, 'nothing created');
    const refusals = entries().slice(before).filter((e) => e.action === 'admin.denied' && e.subject === 'peer/auditor');
    assert.deepEqual(refusals.map((e) => (e.after as { call: string }).call).sort(), ['activateWarrant', 'createWarrant', 'modifyWarrant', 'stopWarrant']);
    assert.ok(refusals.every((e) => (e.after as { role: string }).role === 'auditor' && e.actor === 'mediator'));
  });

  it('refuses a probe or mediator certificate every call, reading too, and audits it', async () => {
    for (const who of ['probe', 'mediator'] as const) {
      const c = client(s.pki, who);
      const calls: [string, Promise<unknown>][] = [
        ['listWarrants', c.listWarrants()],
        ['getWarrant', c.getWarrant(1n)],
        ['listAgencies', c.listAgencies()],
        ['listProbes', c.listProbes()],
        ['auditLog', c.auditLog()],
        ['createWarrant', c.createWarrant(warrantRequest(`LIID-${who}`))],
        ['activateWarrant', c.activateWarrant(1n)],
        ['stopWarrant', c.stopWarrant(1n)],
      ];
      for (const [call, p] of calls) {
        const f = await failure(p);
        assert.deepEqual([f.code, f.grpc], ['LIG_ERR_ADMIN_DENIED', Status.PERMISSION_DENIED], `${who} ${call}`);
        assert.ok(!f.message.includes('LIID-ROLES'), 'no warrant data in the refusal');
      }
      const name = who === 'probe' ? 'probe-1' : 'mediator';
      const audited = entries().filter((e) => e.action === 'admin.denied' && e.subject === `peer/${name}`);
      assert.equal(audited.length, calls.length, `one entry per refused call of ${who}`);
    }
  });

  it('does not let an admin certificate of another CA, or a LEMF (server-only) certificate, past TLS', async () => {
    const foreign = await makeForeignPki(path.join(s.tmp, 'foreign'), { role: 'admin', name: 'admin' });
    // The client trusts both CAs (so it accepts the mediator) and presents the foreign certificate.
    const both = path.join(s.tmp, 'both-ca.pem');
    fs.writeFileSync(both, Buffer.concat([fs.readFileSync(s.pki.ca), fs.readFileSync(foreign.ca)]));
    const before = entries().length;
    for (const leaf of [foreign.leaf, s.pki.lemf]) {
      const c = AdminClient.open({ address: mediator.adminAddress!, tls: { ca: both, cert: leaf.cert, key: leaf.key, servername: 'localhost' } });
      extra.push(c);
      const f = await failure(c.listWarrants());
      assert.equal(f.code, 'LIG_ERR_ADMIN_UNAVAILABLE', leaf.cert);
    }
    assert.equal(entries().slice(before).filter((e) => e.action === 'admin.denied').length, 0, 'no handler, no identity: the handshake refused them');
  });

  it('returns the lig code of each failure: unknown id, bad state, invalid warrant, a LIID taken', async () => {
    assert.deepEqual(await failure(admin.getWarrant(999n)).then((f) => [f.code, f.grpc]), ['LIG_ERR_WARRANT_NOT_FOUND', Status.NOT_FOUND]);
    const w = await admin.createWarrant(warrantRequest('LIID-ROLES-3'));
    await admin.stopWarrant(w.id, 'withdrawn');
    assert.deepEqual(await failure(admin.activateWarrant(w.id)).then((f) => [f.code, f.grpc]), ['LIG_ERR_WARRANT_STATE', Status.FAILED_PRECONDITION]);
    const bad = await failure(admin.createWarrant(warrantRequest('LIID-ROLES-4', { targets: [{ kind: { $case: 'ip', ip: '10.0.0.0/8' } }], endTimeMs: 1000n })));
    assert.deepEqual([bad.code, bad.grpc], ['LIG_ERR_WARRANT_INVALID', Status.INVALID_ARGUMENT]);
    assert.match(bad.message, /targets\[0\]/);
    assert.ok(!bad.message.includes('LIID-ROLES-4'), 'the LIID is not quoted');
    assert.deepEqual(await failure(admin.createWarrant(warrantRequest('LIID-ROLES-3'))).then((f) => f.code), 'LIG_ERR_WARRANT_CONFLICT', 'LIIDs are never reused');
    assert.deepEqual(await failure(admin.createWarrant(warrantRequest(LIID_CC))).then((f) => f.code), 'LIG_ERR_WARRANT_CONFLICT', 'nor taken from a static intercept');
    assert.equal((await admin.getWarrant(w.id)).endReason, 'withdrawn');
  });

  it('serves the audit log as stored, with an anchor it verifies against', async () => {
    const copy = await auditor.auditLog();
    const onDisk = fs.readFileSync(path.join(s.tmp, 'data', 'audit.log'));
    assert.ok(onDisk.subarray(0, copy.text.length).equals(copy.text), 'the bytes as stored');
    assert.ok(copy.anchor);
    const r = verifyAudit(copy.text, { seq: Number(copy.anchor.seq), hash: copy.anchor.hash });
    assert.ok(r.ok, JSON.stringify(r));
    const actions = new Set(entries().map((e) => e.action));
    for (const a of ['mediator.start', 'warrant.create', 'warrant.activate', 'warrant.stop', 'admin.denied', 'delivery.start']) assert.ok(actions.has(a), a);
  });

  it('audits a refused ingest stream (a certificate that is not a probe\'s) as tls.refused', async () => {
    const leaf = s.pki.auditor;
    const c = await ProbeClient.open({
      mediator: { address: mediator.ingestAddress!, tls: { ca: s.pki.ca, cert: leaf.cert, key: leaf.key, servername: 'localhost' } },
      spool: { dir: path.join(s.tmp, 'spool-refused') },
      sourceKind: 'pcap',
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      log: () => undefined,
    });
    try {
      await new Promise((r) => c.once('disconnected', r));
    } finally {
      await c.close();
    }
    const e = entries().find((x) => x.action === 'tls.refused' && x.subject === 'peer/auditor');
    assert.ok(e, 'on the audit log');
    assert.deepEqual([(e.after as { call: string }).call, (e.after as { code: string }).code], ['ingest', 'LIG_ERR_INGEST_NOT_PROBE']);
  });

  it('never logs a LIID or a target above debug level', () => {
    const shown = logs.filter((l) => !l.startsWith('debug:')).join('\n');
    assert.ok(logs.some((l) => l.startsWith('info:') && /warrant \d+ activated by admin/.test(l)), 'changes are logged, by warrant id');
    for (const secret of ['LIID-ROLES', '192.0.2.99', LIID_CC, 'ORDER-1', 'Judge A']) assert.ok(!shown.includes(secret), secret);
  });

  it('shows agencies with their links and probes with their last batch', async () => {
    const leaf = s.pki.probes['probe-1']!;
    const probe = await ProbeClient.open({
      mediator: { address: mediator.ingestAddress!, tls: { ca: s.pki.ca, cert: leaf.cert, key: leaf.key, servername: 'localhost' } },
      spool: { dir: path.join(s.tmp, 'spool') },
      sourceKind: 'pcap',
      softwareVersion: 'lig-test 1',
      log: () => undefined,
    });
    try {
      if (!probe.tasks) await new Promise((r) => probe.once('tasks', r));
      const probes = await admin.listProbes();
      assert.deepEqual(probes.map((p) => [p.name, p.connected, p.sourceKind, p.softwareVersion]), [['probe-1', true, 'pcap', 'lig-test 1']]);
      assert.equal(probes[0]!.lastBatchMs, undefined, 'no batch yet');
    } finally {
      await probe.close();
    }
    const [a] = await admin.listAgencies();
    assert.deepEqual(a!.interfaces.map((i) => i.hi), ['hi2', 'hi3']);
    assert.ok(a!.interfaces.every((i) => i.remote.startsWith('127.0.0.1:')));
  });
});
