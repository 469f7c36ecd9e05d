/**
 * Delivery for a whole mediator: one DeliveryLink per agency (delivery: tcp) and interface —
 * HI2 always, HI3 when the agency has an address for it — built from the config and the
 * journals. TLS files are loaded and checked here, eagerly, before any link starts.
 * Journals are opened and closed by their owner (mediation); delivery only reads and confirms.
 */
import type { Agency, TcpAgency } from '../config';
import { ConfigError } from '../errors';
import { AgencyTlsMaterial, loadAgencyTls } from './agency-tls';
import type { Clock } from './clock';
import { DeliveryLink, LinkOptions, LinkState } from './link';
import type { DeliveryJournal } from './session';
import { TlsTransport } from './tls-transport';
import type { Transport } from './transport';
import type { Hi } from './tri';

export interface DeliveryOptions {
  /** The journal of one agency's interface. */
  journalFor(agency: string, hi: Hi): DeliveryJournal;
  clock?: Clock;
  random?: () => number;
  tuning?: LinkOptions['tuning'];
  /** Makes a link's transport; TLS from the agency's config by default. */
  transportFor?: (agency: TcpAgency, hi: Hi, tls: AgencyTlsMaterial) => Transport;
}

/** The TLS transport for an agency's interface, from its config. */
export function tlsTransportFor(agency: TcpAgency, hi: Hi, material: AgencyTlsMaterial): TlsTransport {
  const address = hi === 'hi2' ? agency.hi2.address : agency.hi3?.address;
  if (!address) throw new ConfigError(`agencies.${agency.id}.${hi}`, 'has no address: an agency without hi3 receives IRI only');
  return new TlsTransport({ address, ...material, servername: agency.tls.servername, minVersion: agency.tls.minVersion });
}

export class Delivery {
  readonly links: readonly DeliveryLink[];

  constructor(config: { agencies: readonly Agency[] }, opts: DeliveryOptions) {
    const links: DeliveryLink[] = [];
    const makeTransport = opts.transportFor ?? tlsTransportFor;
    for (const agency of config.agencies) {
      if (agency.delivery !== 'tcp') continue;
      const material = loadAgencyTls(agency.tls);
      const his: Hi[] = agency.hi3 ? ['hi2', 'hi3'] : ['hi2'];
      for (const hi of his) {
        links.push(
          new DeliveryLink({
            agency,
            hi,
            journal: opts.journalFor(agency.id, hi),
            transport: makeTransport(agency, hi, material),
            clock: opts.clock,
            random: opts.random,
            tuning: opts.tuning,
          }),
        );
      }
    }
    this.links = links;
  }

  start(): void {
    for (const l of this.links) l.start();
  }

  async close(): Promise<void> {
    await Promise.all(this.links.map((l) => l.close()));
  }

  link(agency: string, hi: Hi): DeliveryLink | undefined {
    return this.links.find((l) => l.agency === agency && l.hi === hi);
  }

  state(): LinkState[] {
    return this.links.map((l) => l.state());
  }
}
