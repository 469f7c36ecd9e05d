/**
 * `npm run fuzz`: every fuzzer in scripts/ in turn, sharing the time box (not part of
 * `npm test`).
 *
 *   npm run fuzz -- [--seconds N] [--seed N] [--out DIR]
 *
 * --seconds is the whole run, split evenly between the fuzz scripts (default: 30 s each); a
 * script with several fuzzers splits its share again. Every script runs even after another
 * found something; the exit code is 1 if any did. Each script can also run alone, with
 * --replay and --only: see scripts/fuzz-driver.ts.
 */
import { appFuzz } from './fuzz-app';
import { berFuzz } from './fuzz-ber';
import { datagramsFuzz } from './fuzz-datagrams';
import { type FuzzScript, commandLine, runScript } from './fuzz-driver';
import { etsiFuzz } from './fuzz-etsi';
import { identityFuzz } from './fuzz-identity';
import { pcapFuzz } from './fuzz-pcap';

const SCRIPTS: [string, FuzzScript][] = [
  ['ber', berFuzz],
  ['etsi', etsiFuzz],
  ['pcap', pcapFuzz],
  ['datagrams', datagramsFuzz],
  ['identity', identityFuzz],
  ['app', appFuzz],
];

function main(): number {
  const args = commandLine(process.argv.slice(2), 30 * SCRIPTS.length);
  if (!args) return 2;
  if (args.replay || args.only) {
    console.error('fuzz: --replay and --only go to one script: npx tsx scripts/fuzz-NAME.ts');
    return 2;
  }
  const each = args.seconds / SCRIPTS.length;
  const found = SCRIPTS.filter(([, s]) => runScript(s, args, each) !== 0).map(([name]) => name);
  console.log(found.length === 0 ? `fuzz: ${SCRIPTS.length} scripts, ${args.seconds} s, --seed ${args.seed}: no finding` : `fuzz: findings in ${found.join(', ')}`);
  return found.length === 0 ? 0 : 1;
}

process.exitCode = main();
