/**
 * `lig mediator --config lig.yaml`: the mediation server. Prints where ingest listens
 * (`ingest listening on 127.0.0.1:50051`), one status line per agency and, with an admin
 * listener, `admin listening on 127.0.0.1:50052`; logs to stderr at
 * the config's log.level, and on SIGINT or SIGTERM closes gracefully (no more batches; what
 * was acknowledged is durable) and prints the status lines once more. The mediator itself
 * lives in src/mediation; this file is flags and process signals.
 */
import { LOG_LEVELS, loadMediatorConfig, type LogLevel } from '../config';
import { Mediator, type AgencyStatus } from '../mediation/mediator';
import { FlagSpec, need, parseCommandFlags } from './args';
import type { Command } from './command';

const FLAGS: Record<string, FlagSpec> = {
  config: { value: true, help: 'the mediator config file (YAML; see examples/lig.yaml)' },
  help: { help: 'show this help' },
};

const SYNOPSIS = 'lig mediator --config lig.yaml';

export const command: Command = {
  summary: 'mediation server: probe ingest, journals, delivery to agencies',
  run: async (argv, io) => {
    const p = parseCommandFlags(argv, FLAGS, SYNOPSIS, io.out);
    if (!p) return 0;
    const config = loadMediatorConfig(need(p, 'config'));
    const shown = LOG_LEVELS.indexOf(config.log.level);
    const log = (level: LogLevel, message: string) => {
      if (LOG_LEVELS.indexOf(level) <= shown) io.err(`lig mediator: ${level}: ${message}`);
    };
    const mediator = await Mediator.start(config, { log });
    const at = mediator.ingestAddress!;
    io.out(`ingest listening on ${at.host.includes(':') ? `[${at.host}]` : at.host}:${at.port}`);
    for (const a of mediator.status().agencies) io.out(agencyLine(a));
    const admin = mediator.adminAddress;
    if (admin) io.out(`admin listening on ${admin.host.includes(':') ? `[${admin.host}]` : admin.host}:${admin.port}`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    const last = mediator.status().agencies;
    await mediator.close();
    for (const a of last) io.out(agencyLine(a));
    io.out('mediator stopped');
    return 0;
  },
};

/** One line about an agency: its delivery, and per interface the link state and backlog. No LIIDs. */
export function agencyLine(a: AgencyStatus): string {
  const parts = a.journals.map((j) => {
    const link = a.links?.find((l) => l.hi === j.hi);
    const state = link ? `${link.status}${link.lastError ? ` (${link.lastError.code})` : ''}` : a.files ? a.files.status : '';
    const failed = j.failed ? `, journal failed (${j.failed.code})` : '';
    return `${j.hi} ${state}, backlog ${j.backlogRecords} record(s)${failed}`;
  });
  return `agency ${a.id} (${a.delivery}): ${parts.join('; ')}`;
}
