#!/usr/bin/env node
// pacha's command line. Commands are loaded only when run: `pacha --version` must start fast.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { redactDeep, redactText } from '../config/redact.js';
import { ExitCode, isPachaError, privilegeError } from '../errors.js';
import type { Context, GlobalOptions } from '../context.js';
import { recordOwnEntry } from '../own-entry.js';
import { translateLegacyArgs } from './legacy.js';

// Unless bin.ts was first: the file git's S3 remote helper runs (see the end of this file).
recordOwnEntry(/* own location */ import.meta.url);

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

type Action<A extends unknown[]> = (context: Context, ...args: A) => Promise<number | void>;

/** Run a command's action with a Context, map errors to exit codes. */
function run<A extends unknown[]>(load: () => Promise<Action<A>>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args.at(-1) as Command;
    const globals = command.optsWithGlobals() as GlobalOptions;
    let context: Context | undefined;
    try {
      const { Context } = await import('../context.js');
      context = await Context.create(globals);
      const action = await load();
      const code = await action(context, ...(args.slice(0, -1) as A));
      process.exitCode = code ?? ExitCode.ok;
    } catch (error) {
      process.exitCode = report(error, Boolean(globals.json));
    } finally {
      await context?.close().catch(() => undefined);
    }
  };
}

function report(thrown: unknown, json: boolean): number {
  const error = privilegeError(thrown);
  if (isPachaError(error)) {
    process.stderr.write(redactText(`pacha: error: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`));
    if (json) process.stdout.write(`${JSON.stringify(redactDeep({ ok: false, error: error.toJSON() }), null, 2)}\n`);
    return error.exitCode;
  }
  process.stderr.write(redactText(`pacha: unexpected error (a bug; please report it):\n${(error as Error)?.stack ?? String(error)}\n`));
  return ExitCode.failed;
}

export function buildProgram(): Command {
  const program = new Command('pacha')
    .description("Keeps every server's configuration versioned off the server and puts it back when the server is rebuilt.")
    .version(VERSION, '-V, --version')
    .option('-c, --config <file>', 'config file (default /etc/pacha.conf, or PACHA_CONFIG)')
    .option('--state <dir>', 'state dir (overrides pacha.state.path)')
    .option('--root <dir>', 'rebuild under this directory instead of / (a mounted image, a test)')
    .option('-v, --verbose', 'log more')
    .option('--json', 'print one JSON document on stdout')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('config')
    .alias('config-values')
    .description('print every key, its value and where the value came from')
    .option('--check', 'only check the configuration (exit 2 if it is invalid)')
    .option('--reference', 'print every key: its default, its environment variable and what it means')
    .action(run(async () => (await import('./commands/config.js')).configCommand));

  program
    .command('watch')
    .description('start tracking directories: first commit and push to the master')
    .argument('[paths...]', 'directories to track')
    .option('--single <file>', 'track one file; the files beside it are not tracked')
    .option('--ignore <patterns...>', 'leave out entries matching these gitignore-style patterns (kept for this path; added to pacha.ignore)')
    .action(run(async () => (await import('./commands/watch.js')).watchCommand));

  program
    .command('forget')
    .description('stop tracking one file or directory inside a tracked path (its history stays)')
    .argument('<path>', 'a file or directory inside a tracked path')
    .action(run(async () => (await import('./commands/watch.js')).forgetCommand));

  program
    .command('unwatch')
    .description('stop tracking a path (its history stays on the master)')
    .argument('<path>', 'a tracked path or its name')
    .action(run(async () => (await import('./commands/watch.js')).unwatchCommand));

  program
    .command('push')
    .description('one cycle: commit every tracked path that changed and push it')
    .action(run(async () => (await import('./commands/push.js')).pushCommand));

  program
    .command('status')
    .description('tracked paths, last commit, what is waiting for the master (as of the last push; --remote asks the master)')
    .option('--remote', 'ask the master which repositories it holds (over SSH)')
    .action(run(async () => (await import('./commands/status.js')).statusCommand));

  program
    .command('hosts')
    .description("the master's hosts and their tracked paths")
    .action(run(async () => (await import('./commands/hosts.js')).hostsCommand));

  program
    .command('fleet')
    .description('every host on the master: last push, heartbeat, instance, state (ok, stale, diverged, never-pushed, empty); exit 1 unless all are ok')
    .option('--prometheus <file>', 'also write the node_exporter textfile (atomically), e.g. /var/lib/node_exporter/textfile/pacha.prom')
    .option('--html <file>', 'also write one self-contained HTML page: a sortable, filterable table and a 30-day timeline per host')
    .action(run(async () => (await import('./commands/fleet.js')).fleetCommand));

  program
    .command('add-host')
    .description("create a host on the master; with --key or --keygen (run on the master), enrol the host's key for the gate")
    .argument('<host>', 'host name')
    .option('--key <pubkey-file>', "enrol this public key: it reaches only this host's directory, through `pacha serve HOST`")
    .option('--keygen', 'make the key pair here and print what the new host needs (the private key once)')
    .option('--key-out <file>', 'with --keygen: write the private key to FILE (0600) instead of printing it')
    .option('--authorized-keys <file>', "the authorized_keys file to enrol in (default pacha.master.authorized_keys, else ~/.ssh/authorized_keys)")
    .option('--host-key-file <file>', "the master's public host key, printed as the pin for --keygen (default /etc/ssh/ssh_host_ed25519_key.pub)")
    .option('--revoke', 'take the host\'s enrolled keys out (same as remove-host)')
    .action(run(async () => (await import('./commands/hosts.js')).addHostCommand));

  program
    .command('remove-host')
    .description("revoke a host's enrolled keys on the master; its history stays")
    .argument('<host>', 'host name')
    .option('--key <pubkey-file>', 'revoke only this key')
    .option('--authorized-keys <file>', 'the authorized_keys file (default pacha.master.authorized_keys, else ~/.ssh/authorized_keys)')
    .action(run(async () => (await import('./commands/enrol.js')).removeHostCommand));

  program
    .command('authorized-keys')
    .description("print the enrolled keys' lines, for sshd's AuthorizedKeysCommand (… authorized-keys %t %k)")
    .argument('[type]', 'the offered key type (%t)')
    .argument('[key]', 'the offered key (%k)')
    .action(run(async () => (await import('./commands/enrol.js')).authorizedKeysCommand));

  program
    .command('serve')
    .description("the master's gate: the forced command of a key enrolled for HOST (run by sshd, not by hand)")
    .argument('<host>', 'the host the key is enrolled for')
    // Not run(): the gate reads only its config file, and answers in its own protocol.
    .action(async (host: string, _options: unknown, command: Command) => {
      const globals = command.optsWithGlobals() as GlobalOptions;
      try {
        process.exitCode = await (await import('./commands/serve.js')).serveCommand(globals, host);
      } catch (error) {
        process.exitCode = report(error, false);
      }
    });

  program
    .command('daemon')
    .description('watch the tracked paths, commit and push every change (foreground, for systemd)')
    .action(run(async () => (await import('./commands/daemon.js')).daemonCommand));

  program
    .command('rebuild')
    .description("put a host's tracked paths back from the master, with its pre and post hooks")
    .argument('[host]', 'the host to rebuild (default: this host)')
    .option('--directory <name>', 'only this tracked path (its name on the master, or its location)')
    .option('--dry-run', 'print the plan and touch nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(run(async () => (await import('./commands/rebuild.js')).rebuildCommand));

  program
    .command('reconcile')
    .description("end a divergence: keep this host's files on top of the master's history, or adopt the master's (nothing forced, nothing lost)")
    .argument('<path>', 'a tracked path')
    .option('--keep-local', "a merge commit: this host's tree on top of the master's history, pushed normally")
    .option('--keep-master', "adopt the master's history; this host's files and history are kept in backups and listed")
    .action(run(async () => (await import('./commands/reconcile.js')).reconcileCommand));

  program
    .command('log')
    .description('the commits that touched a tracked path, or a file or directory in one, newest first')
    .argument('<path>', 'a tracked path, or a file or directory inside one')
    .option('--limit <n>', 'only the newest N commits')
    .action(run(async () => (await import('./commands/history.js')).logCommand));

  program
    .command('diff')
    .description('content and metadata (mode, owner, group, symlink target) differences of a path')
    .argument('<path>', 'a tracked path, or a file or directory inside one')
    .option('--from <rev>', 'a commit or a time ("2 hours ago", ISO time); default: the last commit')
    .option('--to <rev>', 'a commit or a time; default: the state on disk now')
    .action(run(async () => (await import('./commands/history.js')).diffCommand));

  program
    .command('show')
    .description('a file as it was at a revision (its bytes; its metadata too with --json)')
    .argument('<path>', 'a file or directory of a tracked path')
    .requiredOption('--at <rev>', 'a commit or a time ("2 hours ago", ISO time)')
    .action(run(async () => (await import('./commands/history.js')).showCommand));

  program
    .command('rollback')
    .description('put a file, a directory or a whole tracked path back as it was at a revision, as a new commit that is pushed')
    .argument('<path>', 'a tracked path, or a file or directory inside one')
    .requiredOption('--to <rev>', 'a commit or a time ("2 hours ago", ISO time): the last commit at or before it')
    .option('--dry-run', 'print what would change and touch nothing')
    .addHelpText(
      'after',
      '\nWhat did not exist at REV is moved to <state>/backups/, never deleted. Exit 4: rolled back and committed,\n' +
        'but not pushed (the commit waits locally for the next push) or an owner had to be restored by number.',
    )
    .action(run(async () => (await import('./commands/history.js')).rollbackCommand));

  program
    .command('boot')
    .description('image entrypoint: read user data, SSM and instance metadata, rebuild this host if it is new here, then watch')
    .option('--user-data <file>', 'cloud-init user data (default /var/lib/cloud/instance/user-data.txt)')
    .option('--instance-data <file>', 'cloud-init instance data (default /run/cloud-init/instance-data.json)')
    .option('--hostname <name>', 'become this host (over every other source)')
    .option('--no-watch', 'stop after the rebuild or push instead of continuing as the daemon')
    .option('--force-rebuild', 'rebuild from the master even if this instance has local state')
    .option('--take-over', 'claim the host name although another instance pushed as it within pacha.boot.fence (recorded in the history)')
    .option('--dry-run', 'print what was read, the decision and the plan; change nothing')
    // Not run(): boot builds its settings from its own sources (user data, SSM …).
    .action(async (options: import('./commands/boot.js').BootCommandOptions, command: Command) => {
      const globals = command.optsWithGlobals() as GlobalOptions;
      try {
        process.exitCode = await (await import('./commands/boot.js')).bootCommand(globals, options);
      } catch (error) {
        process.exitCode = report(error, Boolean(globals.json));
      }
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `pacha config | head`: a reader that goes away is a normal end, not a crash.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(translateLegacyArgs(argv), { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; usage errors are exit 2.
      process.exitCode = error.exitCode === 0 ? 0 : ExitCode.usage;
      return;
    }
    throw error;
  }
}

// git runs pacha's S3 remote helper through this entry (master/s3/s3-master.ts, HELPER_ARGUMENT).
if (process.argv[2] === '--git-remote-pacha-s3') {
  process.exitCode = await (await import('../master/s3/remote-helper.js')).runRemoteHelper(process.argv.slice(3));
} else {
  await main(process.argv.slice(2));
}
