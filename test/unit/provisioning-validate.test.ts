import { strict as assert } from 'node:assert';
import { DEFAULT_REPORT_MODE, DEFAULT_SUMMARY_INTERVAL, MAX_SUMMARY_INTERVAL, MIN_SUMMARY_INTERVAL, parseMediatorConfig } from '../../src/config/mediator';
import { MIN_IPV4_TARGET_PREFIX, MIN_IPV6_TARGET_PREFIX } from '../../src/config/targets';
import { WarrantError } from '../../src/errors';
import {
  MAX_COMPLIANCE_FIELD_LENGTH,
  MAX_LIID_LENGTH,
  MAX_PROBE_NAME_LENGTH,
  MAX_STOP_REASON_LENGTH,
  MAX_TARGET_VALUE_LENGTH,
  MAX_WARRANT_PROBES,
  MAX_WARRANT_TARGETS,
  validateStopReason,
  validateWarrantChange,
  validateWarrantSpec,
} from '../../src/provisioning';
import type { Warrant, WarrantSpec } from '../../src/provisioning';
import { REPORT_MODES } from '../../src/provisioning/warrant-validate';
import { AGENCIES, HOUR, SECRET, SECRET_STRINGS, T0, messagesOf, spec } from './provisioning-fixtures';

const now = new Date(T0);
const opts = { agencies: AGENCIES, now };

/** The fields named by the problems `fn` throws, asserting it throws LIG_ERR_WARRANT_INVALID and leaks nothing. */
function problemFields(fn: () => unknown, extraSecrets: string[] = []): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof WarrantError, `not a WarrantError: ${String(err)}`);
    assert.equal(err.code, 'LIG_ERR_WARRANT_INVALID');
    const text = messagesOf(err);
    for (const s of [...SECRET_STRINGS, ...extraSecrets]) assert.ok(!text.includes(s), `message quotes a sensitive value: ${text}`);
    assert.equal(err.problems.length, err.message.split('\n').length - 1, 'the message lists every problem');
    return err.problems.map((p) => p.field);
  }
  assert.fail('expected LIG_ERR_WARRANT_INVALID');
}

const bad = (over: Record<string, unknown>, extraSecrets: string[] = []) =>
  problemFields(() => validateWarrantSpec({ ...spec(), ...over } as WarrantSpec, opts), extraSecrets);

describe('provisioning: warrant validation', () => {
  it('accepts a valid spec and returns a normalized copy', () => {
    const input = spec({
      targets: [
        { kind: 'ip', family: 6, address: '2001:DB8::', prefixLength: 48 },
        { kind: 'mac', mac: 'AA-BB-CC-DD-EE-0F' },
        { kind: 'ip', family: 4, address: SECRET.ip, prefixLength: 32 },
      ],
      startTime: new Date(T0 - HOUR),
      probes: ['probe-a', 'probe-b'],
    });
    const out = validateWarrantSpec(input, opts);
    assert.deepEqual(out.targets, [
      { kind: 'ip', family: 6, address: '2001:db8::', prefixLength: 48 },
      { kind: 'mac', mac: 'aa:bb:cc:dd:ee:0f' },
      { kind: 'ip', family: 4, address: SECRET.ip, prefixLength: 32 },
    ]);
    assert.deepEqual(out.probes, ['probe-a', 'probe-b']);
    assert.equal(out.endTime.getTime(), input.endTime.getTime());
    assert.notEqual(out.endTime, input.endTime, 'dates are copied');
    assert.equal(out.startTime?.getTime(), T0 - HOUR, 'a start in the past is fine');
  });

  it('LIID: 1 to 25 printable ASCII characters without space', () => {
    assert.equal(validateWarrantSpec(spec({ liid: '!'.padEnd(MAX_LIID_LENGTH, '~') }), opts).liid.length, MAX_LIID_LENGTH);
    assert.equal(validateWarrantSpec(spec({ liid: 'X' }), opts).liid, 'X');
    for (const liid of ['', 'A'.repeat(MAX_LIID_LENGTH + 1), 'SECRET LIID', 'SECRETé', 'SECRET\tX', 42, undefined]) {
      assert.deepEqual(bad({ liid }, ['SECRET LIID', 'SECRETé']), ['liid'], `liid ${JSON.stringify(liid)}`);
    }
  });

  it('agency: one of those given', () => {
    assert.equal(validateWarrantSpec(spec({ agency: 'bka' }), opts).agency, 'bka');
    assert.deepEqual(bad({ agency: 'cia' }), ['agency']);
    assert.deepEqual(bad({ agency: undefined }), ['agency']);
    assert.deepEqual(problemFields(() => validateWarrantSpec(spec(), { agencies: [], now })), ['agency']);
  });

  it('country: two upper-case letters of ISO 3166-1', () => {
    assert.equal(validateWarrantSpec(spec({ country: 'DE' }), opts).country, 'DE');
    for (const country of ['us', 'USA', 'ZZ', 'U', '', 7]) assert.deepEqual(bad({ country }), ['country'], String(country));
    assert.throws(() => validateWarrantSpec(spec({ country: 'UK' }), opts), (e: WarrantError) => e.problems[0]!.message.includes('"GB"'));
  });

  it('type: content or iri-only', () => {
    assert.equal(validateWarrantSpec(spec({ type: 'iri-only' }), opts).type, 'iri-only');
    assert.deepEqual(bad({ type: 'everything' }), ['type']);
  });

  it('targets: a non-empty list of at most MAX_WARRANT_TARGETS', () => {
    assert.deepEqual(bad({ targets: [] }), ['targets']);
    assert.deepEqual(bad({ targets: undefined }), ['targets']);
    assert.deepEqual(bad({ targets: 'all' }), ['targets']);
    const many = Array.from({ length: MAX_WARRANT_TARGETS + 1 }, (_, i) => ({ kind: 'username', username: `u${i}` }));
    assert.deepEqual(bad({ targets: many }), ['targets']);
    assert.equal(validateWarrantSpec(spec({ targets: many.slice(1) as WarrantSpec['targets'] }), opts).targets.length, MAX_WARRANT_TARGETS);
  });

  it('targets: each by the config rules, named by index, never quoted', () => {
    const cases: [unknown, string][] = [
      [{ kind: 'ip', family: 4, address: '198.51.100.777', prefixLength: 32 }, 'targets[0].ip'],
      [{ kind: 'ip', family: 4, address: '198.51.0.0', prefixLength: MIN_IPV4_TARGET_PREFIX - 1 }, 'targets[0].ip'],
      [{ kind: 'ip', family: 4, address: SECRET.ip, prefixLength: 24 }, 'targets[0].ip'],
      [{ kind: 'ip', family: 6, address: '2001:db8::', prefixLength: MIN_IPV6_TARGET_PREFIX - 1 }, 'targets[0].ip'],
      [{ kind: 'ip', family: 6, address: SECRET.ip, prefixLength: 32 }, 'targets[0]'],
      [{ kind: 'ip', address: SECRET.ip }, 'targets[0]'],
      [{ kind: 'mac', mac: '00:11:22:33:44' }, 'targets[0].mac'],
      [{ kind: 'username', username: ` ${SECRET.user}` }, 'targets[0].username'],
      [{ kind: 'username', username: 'x'.repeat(MAX_TARGET_VALUE_LENGTH + 1) }, 'targets[0]'],
      [{ kind: 'username', username: `${SECRET.user}\n` }, 'targets[0]'],
      [{ kind: 'username', username: '' }, 'targets[0].username'],
      [{ kind: 'email', email: 'secret.person.example.org' }, 'targets[0].email'],
      [{ kind: 'phone', phone: '+15551234' }, 'targets[0]'],
      [SECRET.ip, 'targets[0]'],
    ];
    for (const [t, field] of cases) {
      assert.deepEqual(bad({ targets: [t] }, ['198.51.100.777', '+15551234', 'secret.person.example.org']), [field], JSON.stringify(t));
    }
  });

  it('targets: the same target twice is refused, also when written differently', () => {
    const twice = [
      { kind: 'ip', family: 6, address: '2001:db8::1', prefixLength: 128 },
      { kind: 'email', email: SECRET.email },
      { kind: 'ip', family: 6, address: '2001:DB8:0:0::1', prefixLength: 128 },
      { kind: 'email', email: SECRET.email.toUpperCase() },
      { kind: 'mac', mac: '00:11:22:33:44:55' },
      { kind: 'mac', mac: '00-11-22-33-44-55' },
    ];
    assert.deepEqual(bad({ targets: twice }, [SECRET.email.toUpperCase()]), ['targets[2]', 'targets[3]', 'targets[5]']);
  });

  it('times: end required, valid, after the start, in the future at creation', () => {
    assert.deepEqual(bad({ endTime: undefined }), ['endTime']);
    assert.deepEqual(bad({ endTime: new Date(NaN) }), ['endTime']);
    assert.deepEqual(bad({ endTime: '2031-01-01T00:00:00Z' }), ['endTime']);
    assert.deepEqual(bad({ endTime: new Date(T0) }), ['endTime'], 'now is not the future');
    assert.deepEqual(bad({ endTime: new Date(T0 - 1) }), ['endTime']);
    assert.deepEqual(bad({ startTime: new Date(T0 + 2 * HOUR), endTime: new Date(T0 + 2 * HOUR) }), ['endTime']);
    assert.deepEqual(bad({ startTime: new Date(NaN) }), ['startTime']);
  });

  it('compliance: every field, not blank, bounded, no control characters', () => {
    assert.deepEqual(bad({ compliance: undefined }), ['compliance']);
    for (const [k, v] of [
      ['orderReference', ''],
      ['issuingAuthority', '   '],
      ['presentingOfficer', 'x'.repeat(MAX_COMPLIANCE_FIELD_LENGTH + 1)],
      ['responsibleEmployee', 'Employee\u0000Secretname'],
      ['orderReference', undefined],
      ['orderReference', 17],
    ] as const) {
      assert.deepEqual(bad({ compliance: { ...spec().compliance, [k]: v } }, ['Employee\u0000Secretname']), [`compliance.${k}`], `${k}=${String(v)}`);
    }
    assert.deepEqual(bad({ compliance: { ...spec().compliance, judge: 'x' } }), ['compliance.judge']);
    const long = validateWarrantSpec(spec({ compliance: { ...spec().compliance, orderReference: 'y'.repeat(MAX_COMPLIANCE_FIELD_LENGTH) } }), opts);
    assert.equal(long.compliance.orderReference.length, MAX_COMPLIANCE_FIELD_LENGTH);
  });

  it('probes: absent for all, else 1..MAX_WARRANT_PROBES distinct names', () => {
    assert.deepEqual(bad({ probes: [] }), ['probes']);
    assert.deepEqual(bad({ probes: ['a', 'b', 'a'] }), ['probes[2]']);
    assert.deepEqual(bad({ probes: ['x'.repeat(MAX_PROBE_NAME_LENGTH + 1)] }), ['probes[0]']);
    assert.deepEqual(bad({ probes: Array.from({ length: MAX_WARRANT_PROBES + 1 }, (_, i) => `p${i}`) }), ['probes']);
  });

  it('reports: an iri-only warrant gets the config\'s defaults, or the mode and interval given', () => {
    const iri = (reports?: unknown) => validateWarrantSpec({ ...spec({ type: 'iri-only' }), ...(reports === undefined ? {} : { reports }) }, opts).reports;
    assert.deepEqual(iri(), { mode: DEFAULT_REPORT_MODE, interval: DEFAULT_SUMMARY_INTERVAL });
    assert.deepEqual(iri(), { mode: 'headers', interval: 60_000 }, 'headers every 60 s, as the brief says');
    for (const mode of REPORT_MODES) assert.deepEqual(iri({ mode, interval: 90_000 }), { mode, interval: 90_000 });
    assert.deepEqual(iri({ mode: 'both' }), { mode: 'both', interval: DEFAULT_SUMMARY_INTERVAL });
    assert.deepEqual(iri({ interval: 30_000 }), { mode: DEFAULT_REPORT_MODE, interval: 30_000 });
    assert.deepEqual(iri({ mode: 'summary', interval: MIN_SUMMARY_INTERVAL }), { mode: 'summary', interval: MIN_SUMMARY_INTERVAL });
    assert.deepEqual(iri({ mode: 'summary', interval: MAX_SUMMARY_INTERVAL }), { mode: 'summary', interval: MAX_SUMMARY_INTERVAL });
    assert.equal(validateWarrantSpec(spec(), opts).reports, undefined, 'a content warrant has none');
  });

  it('reports: refused on a content warrant, as the config refuses it on a content intercept', () => {
    assert.deepEqual(bad({ type: 'content', reports: { mode: 'summary', interval: 60_000 } }), ['reports']);
    assert.deepEqual(bad({ type: 'content', reports: {} }), ['reports']);
    assert.throws(() => validateWarrantSpec(spec({ reports: { mode: 'headers', interval: 60_000 } }), opts), (e: WarrantError) => /iri-only warrants only/.test(e.problems[0]!.message));
    // The config's rule, for comparison: the same refusal for a static intercept.
    const yaml = (type: string) => `dataDir: d\ningest: { listen: 127.0.0.1:0, tls: { ca: a, cert: b, key: c } }\nagencies: [{ id: fbi, country: US, operatorId: OP, delivery: files, files: { dir: f } }]\nintercepts: [{ liid: L, agency: fbi, type: ${type}, targets: [{ ip: 192.0.2.1 }], reports: { mode: summary } }]\n`;
    assert.equal(parseMediatorConfig(yaml('iri-only')).intercepts[0]!.reports?.mode, 'summary');
    assert.throws(() => parseMediatorConfig(yaml('content')), /iri-only/);
  });

  it('reports: a mode of REPORT_MODES, an interval of whole seconds in range, no other field', () => {
    const badReports = (reports: unknown) => bad({ type: 'iri-only', reports });
    assert.deepEqual(badReports({ mode: 'everything' }), ['reports.mode']);
    assert.deepEqual(badReports({ mode: 'Summary' }), ['reports.mode']);
    for (const interval of [0, MIN_SUMMARY_INTERVAL - 1000, 1500, MAX_SUMMARY_INTERVAL + 1000, '60s', Number.NaN, -60_000, 2 ** 60]) {
      assert.deepEqual(badReports({ mode: 'summary', interval }), ['reports.interval'], String(interval));
    }
    assert.deepEqual(badReports({ mode: 'summary', intervl: 60_000 }), ['reports.intervl']);
    assert.deepEqual(badReports('summary'), ['reports']);
    assert.deepEqual(badReports(null), ['reports']);
    assert.deepEqual(bad({ type: 'iri-only', reports: { mode: 'x', interval: 1 } }), ['reports.mode', 'reports.interval'], 'both at once');
  });

  it('unknown fields: named when they look like a field, not shown otherwise', () => {
    assert.deepEqual(bad({ endtime: new Date(T0 + HOUR) }), ['endtime']);
    assert.deepEqual(bad({ [SECRET.ip]: true }), ['(warrant)']);
    assert.deepEqual(problemFields(() => validateWarrantSpec(null, opts)), ['(warrant)']);
    assert.deepEqual(problemFields(() => validateWarrantSpec([spec()], opts)), ['(warrant)']);
  });

  it('reports every problem at once', () => {
    const fields = bad({
      liid: 'SECRET LIID WITH SPACES AND TOO LONG',
      agency: 'cia',
      country: 'usa',
      type: 'all',
      targets: [{ kind: 'ip', family: 4, address: '10.0.0.0', prefixLength: 8 }, { kind: 'mac', mac: 'nope' }],
      startTime: new Date(T0 + 3 * HOUR),
      endTime: new Date(T0 + 2 * HOUR),
      compliance: { orderReference: '' },
      probes: [],
    }, ['SECRET LIID WITH SPACES AND TOO LONG']);
    assert.deepEqual(fields, [
      'liid', 'agency', 'country', 'type', 'targets[0].ip', 'targets[1].mac', 'endTime',
      'compliance.orderReference', 'compliance.issuingAuthority', 'compliance.presentingOfficer', 'compliance.responsibleEmployee', 'probes',
    ]);
  });
});

describe('provisioning: change and stop validation', () => {
  const current: Warrant = {
    ...spec({ startTime: new Date(T0 + HOUR) }),
    id: 1,
    state: 'active',
    version: 2,
    createdAt: new Date(T0 - HOUR),
    createdBy: 'alice',
  };
  const change = (c: unknown) => validateWarrantChange(c, current, { now });
  const badChange = (c: unknown) => problemFields(() => change(c));

  it('accepts each field alone and returns it normalized', () => {
    assert.deepEqual(change({ targets: [{ kind: 'mac', mac: 'AA:BB:CC:DD:EE:FF' }] }).targets, [{ kind: 'mac', mac: 'aa:bb:cc:dd:ee:ff' }]);
    assert.equal(change({ endTime: new Date(T0 + 48 * HOUR) }).endTime?.getTime(), T0 + 48 * HOUR);
    assert.equal(change({ startTime: new Date(T0 + 2 * HOUR) }).startTime?.getTime(), T0 + 2 * HOUR);
    assert.deepEqual(change({ compliance: { orderReference: 'ORDER-2' } }).compliance, { orderReference: 'ORDER-2' });
    assert.deepEqual(change({ probes: ['p1'] }).probes, ['p1']);
    assert.equal(change({ probes: null }).probes, null);
  });

  it('refuses an empty change, unknown and identity fields, and each bad field', () => {
    assert.deepEqual(badChange({}), ['(change)']);
    assert.deepEqual(badChange({ liid: 'NEWLIID' }), ['liid', '(change)']);
    assert.deepEqual(badChange({ targets: [] }), ['targets']);
    assert.deepEqual(badChange({ compliance: {} }), ['compliance']);
    assert.deepEqual(badChange({ compliance: { orderReference: ' ' } }), ['compliance.orderReference']);
    assert.deepEqual(badChange({ probes: [] }), ['probes']);
    assert.deepEqual(badChange(undefined), ['(change)']);
  });

  it('reports: changes the mode, the interval or both of an iri-only warrant; refused for a content one', () => {
    const iri: Warrant = { ...current, type: 'iri-only', reports: { mode: 'headers', interval: 60_000 } };
    const changeIri = (c: unknown) => validateWarrantChange(c, iri, { now });
    assert.deepEqual(changeIri({ reports: { mode: 'summary' } }).reports, { mode: 'summary' });
    assert.deepEqual(changeIri({ reports: { interval: 120_000 } }).reports, { interval: 120_000 });
    assert.deepEqual(changeIri({ reports: { mode: 'both', interval: 5_000 } }).reports, { mode: 'both', interval: 5_000 });
    assert.deepEqual(problemFields(() => changeIri({ reports: {} })), ['reports']);
    assert.deepEqual(problemFields(() => changeIri({ reports: { mode: 'none' } })), ['reports.mode']);
    assert.deepEqual(problemFields(() => changeIri({ reports: { interval: 100 } })), ['reports.interval']);
    assert.deepEqual(badChange({ reports: { mode: 'summary' } }), ['reports'], 'the current warrant is content');
  });

  it('checks the window the change leaves: end after start, a new end in the future', () => {
    assert.deepEqual(badChange({ endTime: new Date(T0 + HOUR) }), ['endTime'], 'the current start is T0+1h');
    assert.deepEqual(badChange({ startTime: new Date(T0 + 25 * HOUR) }), ['endTime'], 'the current end is T0+24h');
    assert.deepEqual(badChange({ startTime: new Date(T0 - 2 * HOUR), endTime: new Date(T0 - HOUR) }), ['endTime']);
    assert.equal(change({ startTime: new Date(T0 + 30 * HOUR), endTime: new Date(T0 + 40 * HOUR) }).endTime?.getTime(), T0 + 40 * HOUR);
  });

  it('stop reason: optional text of at most MAX_STOP_REASON_LENGTH', () => {
    assert.equal(validateStopReason(undefined), undefined);
    assert.equal(validateStopReason('order withdrawn'), 'order withdrawn');
    for (const r of ['', '  ', 'x'.repeat(MAX_STOP_REASON_LENGTH + 1), 5]) assert.deepEqual(problemFields(() => validateStopReason(r)), ['reason']);
  });
});
