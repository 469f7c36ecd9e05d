/**
 * The admin API's pure parts: the role table (every call for admin, reading for auditor,
 * nothing for the other roles), targets and warrants between proto and the model, and the
 * CLI's flags (targets, times, the certificate flags).
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { isLigError } from '../../src/errors';
import * as pb from '../../src/gen/lig/v1/admin';
import { ReportMode } from '../../src/gen/lig/v1/ingest';
import { ALL_CALLS, AdminService, READ_CALLS, authorize, targetOf, targetToProto, warrantToProto } from '../../src/provisioning/admin-service';
import { ADMIN_FLAGS, adminTlsPaths } from '../../src/cli/admin-flags';
import { parseArgs } from '../../src/cli/args';
import { reportsFlags, targetFlag, targetName, timeFlag, warrantJson } from '../../src/cli/warrant';
import type { Warrant } from '../../src/provisioning';
import { ROLES } from '../../src/pki';
import { ADMIN, HOUR, T0, TestClock, dataDirHooks, openBoth, spec } from './provisioning-fixtures';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return isLigError(e) ? e.code : 'not a lig error';
  }
};

describe('admin: roles, mapping and flags', () => {
  it('lets admin make every call, auditor only the reading ones, and no other role any', () => {
    assert.deepEqual([...ALL_CALLS].sort(), ['activateWarrant', 'auditLog', 'createWarrant', 'getWarrant', 'listAgencies', 'listProbes', 'listWarrants', 'modifyWarrant', 'stopWarrant']);
    for (const role of ROLES) {
      for (const call of ALL_CALLS) {
        const allowed = role === 'admin' || (role === 'auditor' && READ_CALLS.has(call));
        const got = code(() => authorize({ name: `${role}-1`, role }, call));
        assert.equal(got, allowed ? undefined : 'LIG_ERR_ADMIN_DENIED', `${role} ${call}`);
      }
    }
    assert.deepEqual(authorize({ name: 'alice', role: 'admin' }, 'createWarrant'), { name: 'alice', role: 'admin' });
    assert.deepEqual(authorize({ name: 'audrey', role: 'auditor' }, 'auditLog'), { name: 'audrey', role: 'auditor' });
  });

  it('maps targets both ways; an IP host has no prefix in text, a prefix keeps it', () => {
    const cases: [pb.WarrantTarget, string][] = [
      [{ kind: { $case: 'ip', ip: '192.0.2.7' } }, 'ip:192.0.2.7'],
      [{ kind: { $case: 'ip', ip: '2001:db8::/56' } }, 'ip:2001:db8::/56'],
      [{ kind: { $case: 'mac', mac: '00:11:22:aa:bb:cc' } }, 'mac:00:11:22:aa:bb:cc'],
      [{ kind: { $case: 'username', username: 'alice' } }, 'user:alice'],
      [{ kind: { $case: 'email', email: 'a@example.org' } }, 'email:a@example.org'],
    ];
    for (const [t, text] of cases) {
      assert.deepEqual(targetToProto(targetOf(t)), t);
      assert.equal(targetName(t), text);
      assert.deepEqual(targetFlag(text), t);
    }
    assert.deepEqual(targetOf({ kind: { $case: 'ip', ip: '192.0.2.7' } }), { kind: 'ip', family: 4, address: '192.0.2.7', prefixLength: 32 });
    // An invalid address is handed to the store's validation as it is (it names the problem there).
    assert.deepEqual(targetOf({ kind: { $case: 'ip', ip: '192.0.2.0/8' } }), { kind: 'ip', family: 4, address: '192.0.2.0', prefixLength: 8 });
    assert.equal(code(() => targetOf({ kind: undefined })), 'LIG_ERR_ADMIN_REQUEST');
  });

  it('maps a warrant to proto and to the CLI\'s JSON with every field', () => {
    const w: Warrant = {
      ...spec({ startTime: new Date(T0 + HOUR), probes: ['probe-1'] }),
      id: 7,
      state: 'stopped',
      version: 3,
      createdAt: new Date(T0),
      createdBy: 'alice',
      activatedAt: new Date(T0 + 1),
      activatedBy: 'alice',
      endedAt: new Date(T0 + 2),
      endedBy: 'bob',
      endReason: 'order revoked',
    };
    const p = warrantToProto(w);
    assert.equal(p.state, pb.WarrantState.WARRANT_STATE_STOPPED);
    assert.equal(p.type, pb.InterceptType.INTERCEPT_TYPE_CONTENT);
    const j = warrantJson(pb.Warrant.decode(pb.Warrant.encode(p).finish()));
    assert.deepEqual(j, {
      id: 7,
      liid: w.liid,
      agency: 'fbi',
      country: 'US',
      type: 'content',
      state: 'stopped',
      version: 3,
      targets: w.targets.map((t) => targetName(targetToProto(t))),
      startTime: new Date(T0 + HOUR).toISOString(),
      endTime: w.endTime.toISOString(),
      compliance: w.compliance,
      probes: ['probe-1'],
      createdAt: new Date(T0).toISOString(),
      createdBy: 'alice',
      activatedAt: new Date(T0 + 1).toISOString(),
      activatedBy: 'alice',
      endedAt: new Date(T0 + 2).toISOString(),
      endedBy: 'bob',
      endReason: 'order revoked',
      reports: null,
    });
  });

  it('maps an iri-only warrant\'s reporting mode to proto and to the CLI\'s JSON', () => {
    const w: Warrant = { ...spec({ type: 'iri-only', reports: { mode: 'summary', interval: 90_000 } }), id: 8, state: 'pending', version: 1, createdAt: new Date(T0), createdBy: 'alice' };
    const p = pb.Warrant.decode(pb.Warrant.encode(warrantToProto(w)).finish());
    assert.deepEqual([p.type, p.reportMode, p.summaryIntervalSeconds], [pb.InterceptType.INTERCEPT_TYPE_IRI_ONLY, ReportMode.REPORT_MODE_SUMMARY, 90]);
    assert.deepEqual(warrantJson(p).reports, { mode: 'summary', intervalSeconds: 90 });
    for (const [mode, pbMode] of [['headers', ReportMode.REPORT_MODE_HEADERS], ['both', ReportMode.REPORT_MODE_BOTH]] as const) {
      assert.equal(warrantToProto({ ...w, reports: { mode, interval: 60_000 } }).reportMode, pbMode);
    }
    const c = pb.Warrant.decode(pb.Warrant.encode(warrantToProto({ ...w, type: 'content', reports: undefined })).finish());
    assert.deepEqual([c.reportMode, c.summaryIntervalSeconds], [undefined, undefined], 'a content warrant has none, not a zero');
  });

  it('reads --reports and --summary-interval: a mode, whole seconds with a unit; anything else is a usage error', () => {
    const flags = (...argv: string[]) => reportsFlags(parseArgs(argv, { reports: { value: true, help: '' }, 'summary-interval': { value: true, help: '' } }));
    assert.deepEqual(flags(), {});
    assert.deepEqual(flags('--reports', 'summary'), { reportMode: ReportMode.REPORT_MODE_SUMMARY });
    assert.deepEqual(flags('--reports', 'headers', '--summary-interval', '90s'), { reportMode: ReportMode.REPORT_MODE_HEADERS, summaryIntervalSeconds: 90 });
    assert.deepEqual(flags('--reports', 'both', '--summary-interval', '1h30m'), { reportMode: ReportMode.REPORT_MODE_BOTH, summaryIntervalSeconds: 5400 });
    assert.deepEqual(flags('--summary-interval', '5m'), { summaryIntervalSeconds: 300 }, 'the mediator checks the range');
    for (const argv of [['--reports', 'all'], ['--reports', 'Summary'], ['--reports', 'toString'], ['--summary-interval', '90'], ['--summary-interval', '1500ms'], ['--summary-interval', '0s'], ['--summary-interval', 'soon']]) {
      assert.equal(code(() => flags(...argv)), 'LIG_ERR_USAGE', argv.join(' '));
    }
  });

  it('reads TIME flags: ISO 8601 with a zone, now, +DURATION; anything else is a usage error', () => {
    const now = Date.UTC(2030, 0, 1);
    assert.equal(timeFlag('end', '2030-01-02T00:00:00Z', now), BigInt(Date.UTC(2030, 0, 2)));
    assert.equal(timeFlag('end', '2030-01-02T02:00+02:00', now), BigInt(Date.UTC(2030, 0, 2)));
    assert.equal(timeFlag('end', '2030-01-01T00:00:00.250Z', now), BigInt(now + 250));
    assert.equal(timeFlag('end', 'now', now), BigInt(now));
    assert.equal(timeFlag('end', '+90s', now), BigInt(now + 90_000));
    assert.equal(timeFlag('end', '+1h30m', now), BigInt(now + 5_400_000));
    for (const bad of ['2030-01-02', '2030-01-02T00:00:00', 'tomorrow', '+', '+5', '']) {
      assert.equal(code(() => timeFlag('end', bad, now)), 'LIG_ERR_USAGE', bad);
    }
    for (const bad of ['192.0.2.7', 'ip:', 'phone:123', ':x']) assert.equal(code(() => targetFlag(bad)), 'LIG_ERR_USAGE', bad);
  });

  it('takes the client certificate as --certs DIR [--name] or as three files, never a mix', () => {
    const parse = (...argv: string[]) => parseArgs(argv, ADMIN_FLAGS);
    assert.deepEqual(adminTlsPaths(parse('--certs', 'c')), { ca: path.join('c', 'ca.pem'), cert: path.join('c', 'admin.pem'), key: path.join('c', 'admin-key.pem') });
    assert.deepEqual(adminTlsPaths(parse('--certs', 'c', '--name', 'auditor')).cert, path.join('c', 'auditor.pem'));
    assert.deepEqual(adminTlsPaths(parse('--ca', 'a', '--cert', 'b', '--key', 'k')), { ca: 'a', cert: 'b', key: 'k' });
    for (const argv of [[], ['--ca', 'a'], ['--certs', 'c', '--key', 'k'], ['--name', 'admin'], ['--certs', 'c', '--name', '../x']]) {
      assert.equal(code(() => adminTlsPaths(parse(...argv))), 'LIG_ERR_USAGE', argv.join(' '));
    }
  });
});

describe('admin: the service\'s reporting mode on a real store', () => {
  const h = dataDirHooks();
  let service: AdminService;
  let changed: number;
  beforeEach(() => {
    const { store } = openBoth(h, new TestClock());
    changed = 0;
    service = new AdminService({ store, staticIntercepts: [], changed: async () => void changed++, agencies: () => [], probes: () => [] });
  });
  const request = (over: Partial<pb.CreateWarrantRequest>): pb.CreateWarrantRequest => {
    const s = spec();
    return {
      liid: s.liid,
      agency: s.agency,
      country: s.country,
      type: pb.InterceptType.INTERCEPT_TYPE_IRI_ONLY,
      targets: s.targets.map(targetToProto),
      endTimeMs: BigInt(s.endTime.getTime()),
      compliance: s.compliance,
      probes: [],
      ...over,
    };
  };
  const rejects = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (e) {
      return isLigError(e) ? e.code : 'not a lig error';
    }
    return 'resolved';
  };

  it('creates with the mode and interval given, either defaulted; modifies either; the probes are told after each change', async () => {
    const made = async (over: Partial<pb.CreateWarrantRequest>, liid: string) => (await service.createWarrant(request({ liid, ...over }), ADMIN)).warrant!;
    const w = await made({}, 'L-DEFAULT');
    assert.deepEqual([w.reportMode, w.summaryIntervalSeconds], [ReportMode.REPORT_MODE_HEADERS, 60]);
    const s = await made({ reportMode: ReportMode.REPORT_MODE_SUMMARY, summaryIntervalSeconds: 90 }, 'L-SUMMARY');
    assert.deepEqual([s.reportMode, s.summaryIntervalSeconds], [ReportMode.REPORT_MODE_SUMMARY, 90]);
    const i = await made({ summaryIntervalSeconds: 15 }, 'L-INTERVAL');
    assert.deepEqual([i.reportMode, i.summaryIntervalSeconds], [ReportMode.REPORT_MODE_HEADERS, 15]);
    const b = await made({ reportMode: ReportMode.REPORT_MODE_BOTH }, 'L-BOTH');
    assert.deepEqual([b.reportMode, b.summaryIntervalSeconds], [ReportMode.REPORT_MODE_BOTH, 60]);

    await service.activateWarrant({ id: s.id }, ADMIN);
    const before = changed;
    const m = (await service.modifyWarrant(pb.ModifyWarrantRequest.fromPartial({ id: s.id, reportMode: ReportMode.REPORT_MODE_BOTH }), ADMIN)).warrant!;
    assert.deepEqual([m.reportMode, m.summaryIntervalSeconds, m.version], [ReportMode.REPORT_MODE_BOTH, 90, s.version + 2n]);
    assert.equal(changed, before + 1, 'the change is pushed to the probes before the call returns');
    const m2 = (await service.modifyWarrant(pb.ModifyWarrantRequest.fromPartial({ id: s.id, summaryIntervalSeconds: 600 }), ADMIN)).warrant!;
    assert.deepEqual([m2.reportMode, m2.summaryIntervalSeconds], [ReportMode.REPORT_MODE_BOTH, 600]);
    assert.deepEqual((await service.getWarrant({ id: s.id })).warrant, m2);
  });

  it('refuses a mode on a content warrant, UNSPECIFIED, and an interval out of range', async () => {
    const content = { type: pb.InterceptType.INTERCEPT_TYPE_CONTENT };
    assert.equal(await rejects(service.createWarrant(request({ ...content, reportMode: ReportMode.REPORT_MODE_SUMMARY }), ADMIN)), 'LIG_ERR_WARRANT_INVALID');
    assert.equal(await rejects(service.createWarrant(request({ ...content, summaryIntervalSeconds: 60 }), ADMIN)), 'LIG_ERR_WARRANT_INVALID');
    assert.equal(await rejects(service.createWarrant(request({ reportMode: ReportMode.REPORT_MODE_UNSPECIFIED }), ADMIN)), 'LIG_ERR_ADMIN_REQUEST');
    assert.equal(await rejects(service.createWarrant(request({ reportMode: 7 as ReportMode }), ADMIN)), 'LIG_ERR_ADMIN_REQUEST');
    for (const seconds of [0, 86_401, 2 ** 32 - 1]) {
      assert.equal(await rejects(service.createWarrant(request({ summaryIntervalSeconds: seconds }), ADMIN)), 'LIG_ERR_WARRANT_INVALID', String(seconds));
    }
    assert.equal((await service.listWarrants({ state: pb.WarrantState.WARRANT_STATE_UNSPECIFIED, agency: '' })).warrants.length, 0, 'nothing created');
    const c = (await service.createWarrant(request(content), ADMIN)).warrant!;
    assert.equal(c.reportMode, undefined);
    assert.equal(await rejects(service.modifyWarrant(pb.ModifyWarrantRequest.fromPartial({ id: c.id, reportMode: ReportMode.REPORT_MODE_HEADERS }), ADMIN)), 'LIG_ERR_WARRANT_INVALID');
    assert.equal(changed, 0, 'nothing changed, nothing pushed');
  });
});
