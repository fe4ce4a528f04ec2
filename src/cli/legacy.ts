// The original Pacha's flags stay valid: they are rewritten into subcommands before parsing.
// `pacha --rebuild bar --directory foo` -> `pacha rebuild bar --directory foo`. Pure.

interface Alias {
  command: string[];
  /** How many values the flag takes (moved after the command). */
  values: 0 | 1 | '*';
}

export const LEGACY_FLAGS: Record<string, Alias> = {
  '--watch': { command: ['watch'], values: '*' },
  '--watch-single': { command: ['watch', '--single'], values: 1 },
  '--rebuild': { command: ['rebuild'], values: 1 },
  '--config-values': { command: ['config'], values: 0 },
  '--add-host': { command: ['add-host'], values: 1 },
  '--daemon-run-once': { command: ['push'], values: 0 },
  '--daemon-foreground': { command: ['daemon'], values: 0 },
  '--add-config': { command: ['config', '--check'], values: 1 },
};

/** Rewrite argv (without node and script); argv without a legacy flag is returned unchanged. */
export function translateLegacyArgs(argv: readonly string[]): string[] {
  // Words after `--` are operands (a directory may be named `--watch`), never flags.
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
  const index = argv.slice(0, end).findIndex((arg) => Object.hasOwn(LEGACY_FLAGS, arg.split('=')[0]!));
  if (index === -1) return [...argv];
  const [flag, inline] = argv[index]!.split(/=(.*)/s, 2) as [string, string | undefined];
  const alias = LEGACY_FLAGS[flag]!;
  const before = argv.slice(0, index);
  let rest = argv.slice(index + 1);
  const values: string[] = inline !== undefined ? [inline] : [];
  if (alias.values === 1 && inline === undefined && rest.length > 0 && !rest[0]!.startsWith('-')) {
    values.push(rest[0]!);
    rest = rest.slice(1);
  } else if (alias.values === '*' && inline === undefined) {
    while (rest.length > 0 && !rest[0]!.startsWith('-')) {
      values.push(rest[0]!);
      rest = rest.slice(1);
    }
  }
  // --add-config FILE registers a config file: it becomes the global -c FILE. Without FILE,
  // `-c` would swallow the command name; `config --check` alone checks the default file.
  if (flag === '--add-config' && values.length > 0) return [...before, '-c', ...values, ...alias.command.slice(0, 1), '--check', ...rest];
  return [...before, ...alias.command, ...values, ...rest];
}
