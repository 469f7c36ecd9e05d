/**
 * `lig agency list [--json]`: the mediator's agencies and the live state of their delivery,
 * per interface (HI2 IRI, HI3 content): link status, backlog (records and bytes journaled and
 * not yet confirmed by the agency), when the agency last confirmed records, the last error.
 * Through the admin API (admin-flags.ts); an auditor certificate may use it.
 */
import type { Agency } from '../gen/lig/v1/admin';
import { ADMIN_FLAGS, withAdminClient } from './admin-flags';
import { type FlagSpec, parseSubcommandFlags } from './args';
import type { Command } from './command';
import { table, timeJson, timeText } from './table';

const FLAGS: Record<string, FlagSpec> = {
  ...ADMIN_FLAGS,
  json: { help: 'print JSON (for scripts) instead of a table' },
  help: { help: 'show this help' },
};

const SYNOPSIS = 'lig agency list [--json] [--admin HOST:PORT] (--certs DIR [--name NAME] | --ca CA --cert CERT --key KEY)';

export const command: Command = {
  summary: 'agencies and their delivery state, through the admin API (list)',
  run: async (argv, io) => {
    const p = parseSubcommandFlags(argv, 'list', FLAGS, SYNOPSIS, io.out);
    if (!p) return 0;
    const agencies = await withAdminClient(p, (c) => c.listAgencies());
    if (p.flags.json === true) {
      io.out(JSON.stringify(agencies.map(agencyJson), null, 2));
      return 0;
    }
    const rows = agencies.flatMap((a) =>
      a.interfaces.map((i) => [
        a.id,
        a.delivery,
        i.hi,
        i.status,
        `${i.backlogRecords} rec / ${i.backlogBytes} B`,
        timeText(i.lastDeliveryMs),
        i.lastErrorCode || '-',
      ]),
    );
    for (const line of table(['AGENCY', 'DELIVERY', 'HI', 'STATUS', 'BACKLOG', 'LAST DELIVERY', 'LAST ERROR'], rows)) io.out(line);
    return 0;
  },
};

function agencyJson(a: Agency): Record<string, unknown> {
  return {
    id: a.id,
    delivery: a.delivery,
    hi1Notifications: a.hi1Notifications,
    interfaces: a.interfaces.map((i) => ({
      hi: i.hi,
      status: i.status,
      connected: i.connected,
      remote: i.remote,
      backlogRecords: Number(i.backlogRecords),
      backlogBytes: Number(i.backlogBytes),
      lastDelivery: timeJson(i.lastDeliveryMs),
      lastError: i.lastErrorCode ? { code: i.lastErrorCode, message: i.lastErrorMessage } : null,
    })),
  };
}
