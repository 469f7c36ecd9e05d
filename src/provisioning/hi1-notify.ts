/**
 * HI1 notifications to an agency (TS 101 671 liActivated / liModified / liDeactivated inside a
 * TS 102 232-1 hI1-Operation, built by etsi/build.ts hi1NotificationPdu): when one of its
 * warrants comes into force, changes while in force, or leaves force (stop, expiry), and the
 * agency has `hi1Notifications` set. They travel on the agency's HI2 like IRI, through the
 * mediator core (MediationHandler.submitIri), numbered per LIID in a sequence of their own
 * (communication HI1_COMMUNICATION).
 *
 * The notification carries the LIID and the warrant's targets (target-Information): that is
 * the agency's own warrant data. Logs name the warrant by id only.
 */
import type { Agency } from '../config';
import type { Target } from '../config/targets';
import { isLigError } from '../errors';
import { hi1NotificationPdu } from '../etsi/build';
import type { IriBuilder, SubmitIriOptions } from '../mediation/handler';
import type { Transition } from './warrant-schedule';

/** The communication HI1 notifications are numbered in, apart from the intercept's records. */
export const HI1_COMMUNICATION = 'hi1';
/** target-Information is OCTET STRING (SIZE (1..256)): targets that do not fit are left out. */
export const MAX_HI1_TARGET_INFORMATION = 256;

/** What this needs of the mediator core. */
export interface IriSubmitter {
  submitIri(agency: string, liid: string, communication: string | undefined, build: IriBuilder, opts?: SubmitIriOptions): Promise<void>;
}

/** The agency's HI1 notifications setting (config agencies[].hi1Notifications, tcp agencies only). */
export function hi1Enabled(a: Agency): boolean {
  return a.delivery === 'tcp' && a.hi1Notifications === true;
}

/** A target as the CLI writes it: "ip:192.0.2.7", "ip:2001:db8::/56", "mac:…", "user:…", "email:…". */
export function targetText(t: Target): string {
  switch (t.kind) {
    case 'ip':
      return `ip:${t.address}${t.prefixLength === (t.family === 4 ? 32 : 128) ? '' : `/${t.prefixLength}`}`;
    case 'mac':
      return `mac:${t.mac}`;
    case 'username':
      return `user:${t.username}`;
    case 'email':
      return `email:${t.email}`;
  }
}

/** The warrant's targets as target-Information: as many as fit, comma separated; undefined when none does. */
export function targetInformation(targets: readonly Target[]): string | undefined {
  let info = '';
  for (const t of targets) {
    const next = info === '' ? targetText(t) : `${info},${targetText(t)}`;
    if (next.length > MAX_HI1_TARGET_INFORMATION || !/^[\x20-\x7e]+$/.test(next)) break;
    info = next;
  }
  return info === '' ? undefined : info;
}

/**
 * Sends the notification for `t` to its agency when that agency has them enabled. Resolves
 * once it is durable in the agency's HI2 journal (or at once when not sent); a failure is
 * logged and resolves too: the warrant change itself stands.
 */
export function notifyHi1(core: IriSubmitter, agencies: readonly Agency[], t: Transition, log: (level: 'error' | 'debug', message: string) => void): Promise<void> {
  const w = t.warrant;
  const agency = agencies.find((a) => a.id === w.agency);
  if (!agency || !hi1Enabled(agency)) return Promise.resolve();
  const info = targetInformation(w.targets);
  return core
    .submitIri(w.agency, w.liid, HI1_COMMUNICATION, (ctx, seq, stamp) => hi1NotificationPdu(ctx, seq, stamp, t.kind, info === undefined ? {} : { targetInformation: info }))
    .then(
      () => log('debug', `warrant ${w.id}: HI1 ${t.kind} journaled for agency ${w.agency}`),
      (e: unknown) => log('error', `warrant ${w.id}: the HI1 ${t.kind} notification for agency ${w.agency} failed: ${isLigError(e) ? e.code : 'internal error'}`),
    );
}
