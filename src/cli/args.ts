/**
 * A small, strict flag parser for `lig` subcommands: `--name value`, `--name=value`,
 * boolean `--flag`, repeated flags as arrays, and positionals. Unknown flags are errors
 * with a hint, never ignored.
 */
import { UsageError } from '../errors';

export interface FlagSpec {
  /** Takes a value (`--out DIR`) rather than being a switch (`--json`). */
  value?: boolean;
  /** May be given more than once; the result is an array. */
  multiple?: boolean;
  /** One line for `--help`. */
  help: string;
}

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>): Parsed {
  const flags: Parsed['flags'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '--') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) {
      const near = Object.keys(spec).find((k) => k.startsWith(name.slice(0, 3)));
      throw new UsageError(`unknown flag --${name}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    let v: string | boolean = true;
    if (s.value) {
      if (eq >= 0) v = a.slice(eq + 1);
      else if (i + 1 < argv.length) v = argv[++i]!;
      else throw new UsageError(`--${name} needs a value`);
    } else if (eq >= 0) {
      throw new UsageError(`--${name} takes no value`);
    }
    if (s.multiple) flags[name] = [...((flags[name] as string[] | undefined) ?? []), String(v)];
    else if (flags[name] !== undefined) throw new UsageError(`--${name} is given twice`);
    else flags[name] = v;
  }
  return { flags, positionals };
}

/** Help text for a command's flags, one per line. */
export function flagHelp(spec: Record<string, FlagSpec>): string {
  return Object.entries(spec)
    .map(([k, s]) => `  --${k}${s.value ? ' VALUE' : ''}`.padEnd(26) + s.help)
    .join('\n');
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function need(p: Parsed, name: string): string {
  const v = str(p, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

/**
 * The usual start of a command that takes flags only: parses them, prints the usage and
 * answers `undefined` for --help, and refuses positional arguments.
 */
export function parseCommandFlags(
  argv: readonly string[], spec: Record<string, FlagSpec>, synopsis: string, out: (line: string) => void,
): Parsed | undefined {
  const p = parseArgs(argv, spec);
  if (p.flags.help) {
    out(`usage: ${synopsis}\n${flagHelp(spec)}`);
    return undefined;
  }
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument "${p.positionals[0]}"; usage: ${synopsis}`);
  return p;
}

/**
 * The start of a command with one subcommand (`lig agency list`, `lig audit verify`): the
 * flags after `name`, parsed as parseCommandFlags does; undefined when help was printed.
 */
export function parseSubcommandFlags(
  argv: readonly string[], name: string, spec: Record<string, FlagSpec>, synopsis: string, out: (line: string) => void,
): Parsed | undefined {
  const [sub, ...rest] = argv;
  if (sub === name) return parseCommandFlags(rest, spec, synopsis, out);
  if (sub === '--help' || sub === 'help') {
    out(`usage: ${synopsis}`);
    return undefined;
  }
  throw new UsageError(`${sub === undefined ? 'a subcommand is missing' : `unknown subcommand "${sub}"`}; usage: ${synopsis}`);
}
