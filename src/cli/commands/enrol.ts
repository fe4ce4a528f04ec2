// Enrolment, run on the master: `pacha add-host HOST --key FILE | --keygen`, `pacha remove-host
// HOST`, and `pacha authorized-keys` for sshd's AuthorizedKeysCommand.
import { existsSync } from 'node:fs';
import { readFile, realpath, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { configPathFrom } from '../../config/load.js';
import { checkHostName } from '../../config/values.js';
import { ConfigError, OperationError, UsageError } from '../../errors.js';
import { EnrolmentProblem, enrolledLines, parsePublicKey, type ForcedCommand, type PublicKey } from '../../master/enrol/authorized-keys.js';
import { enrolHost, generateKeyPair, readHostKey, readKeysFile, revokeHost } from '../../master/enrol/enrol.js';
import type { Context } from '../../context.js';

export interface EnrolOptions {
  key?: string;
  keygen?: boolean;
  keyOut?: string;
  authorizedKeys?: string;
  hostKeyFile?: string;
}

export const DEFAULT_HOST_KEY_FILE = '/etc/ssh/ssh_host_ed25519_key.pub';

function keysFile(context: Context, flag: string | undefined): string {
  return path.resolve(flag ?? context.settings.get('pacha.master.authorized_keys') ?? path.join(os.homedir(), '.ssh', 'authorized_keys'));
}

/**
 * The gate's own entry point (serve-main.js, which loads only the gate) when it sits beside
 * the running CLI's main.js (the tsc build); else the CLI itself (the one-file bundle).
 */
function gateEntryBeside(cli: string): string {
  if (path.basename(cli) !== 'main.js') return cli;
  const entry = path.join(path.dirname(cli), 'serve-main.js');
  return existsSync(entry) ? entry : cli;
}

/** node and pacha by absolute path, and the config file the gate must read (sshd gives it no environment). */
async function gateCommand(context: Context): Promise<ForcedCommand> {
  const origin = context.settings.origin('pacha.hosts.path');
  if (origin.startsWith('env:') || origin.startsWith('flag:')) {
    throw new ConfigError(`pacha.hosts.path comes from ${origin}, which the gate will not see (sshd runs it with no environment)`, {
      hint: 'put pacha.hosts.path in a config file and pass it with -c',
    });
  }
  const { path: config } = configPathFrom(context.options.config ? { configPath: context.options.config } : {});
  return {
    node: process.execPath,
    pacha: gateEntryBeside(await realpath(process.argv[1]!)),
    config: existsSync(config) ? config : undefined,
  };
}

async function readPublicKey(file: string): Promise<PublicKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the public key ${file}: ${(error as Error).message}`);
  }
  return asUsage(() => parsePublicKey(text, file));
}

function asUsage<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof EnrolmentProblem) throw new UsageError(error.message);
    throw error;
  }
}

export async function enrolCommand(context: Context, host: string, options: EnrolOptions): Promise<number> {
  if (Boolean(options.key) === Boolean(options.keygen)) throw new UsageError('give exactly one of --key PUBKEY_FILE and --keygen');
  if (options.keyOut && !options.keygen) throw new UsageError('--key-out goes with --keygen');
  if (options.keygen && context.out.json && !options.keyOut) {
    throw new UsageError('--keygen with --json needs --key-out FILE: a private key never goes into JSON');
  }
  if (options.keyOut && existsSync(options.keyOut)) throw new UsageError(`${options.keyOut} exists; pacha never overwrites a key file`);
  const generated = options.keygen ? await generateKeyPair(host) : undefined;
  const key = generated ? asUsage(() => parsePublicKey(generated.publicKey, 'ssh-keygen')) : await readPublicKey(options.key!);
  const file = keysFile(context, options.authorizedKeys);
  const hostsPath = context.settings.require('pacha.hosts.path');
  const enrolled = await enrolHost({ hostsPath, host, keysFile: file, key, command: await gateCommand(context) }).catch((error: unknown) => {
    if (error instanceof EnrolmentProblem) throw new OperationError('EENROL', error.message, { hint: `nothing was changed in ${file}` });
    throw error;
  });
  if (options.keyOut && generated) await writeFile(options.keyOut, generated.privateKey, { flag: 'wx', mode: 0o600 });
  const hostKey = await readHostKey(options.hostKeyFile ?? DEFAULT_HOST_KEY_FILE);
  const verb = { added: 'enrolled', updated: 'updated the forced command of', unchanged: 'already enrolled:' }[enrolled.key];
  context.out.say(`${verb} ${host}'s key in ${file}; its directory ${path.join(hostsPath, host)} ${enrolled.hostDir === 'created' ? 'was created' : 'exists'} (0700)`);
  if (generated) printNewHostNeeds(context, host, hostsPath, generated.privateKey, options.keyOut, hostKey);
  context.out.result({ ok: true, host, hostDir: enrolled.hostDir, key: enrolled.key, authorizedKeys: file, line: enrolled.line, keyOut: options.keyOut ?? null, hostKey: hostKey ?? null });
  return 0;
}

/** What a new host needs, once: its private key, the pinned host key, and where to store both. */
function printNewHostNeeds(context: Context, host: string, hostsPath: string, privateKey: string, keyOut: string | undefined, hostKey: string | undefined): void {
  const say = (line = ''): void => context.out.say(line);
  const ssm = context.settings.get('pacha.ssm.path') ?? '/pacha/prod';
  const pin = hostKey ?? `(no ${DEFAULT_HOST_KEY_FILE}: give the master's host key file with --host-key-file)`;
  say();
  if (keyOut) say(`The private key is in ${keyOut} (0600). Store it for the new host, then delete it here.`);
  else {
    say('The private key, shown this once (store it now; it is kept nowhere on the master):');
    context.out.revealSecret(privateKey.trimEnd());
  }
  say();
  say(`The master's host key, pinned:\n  pacha.ssh.host_key = ${pin}`);
  say();
  say('In the new host\'s cloud-init user data:');
  say(['#cloud-config', 'pacha:', `  hostname: ${host}`, '  config: |', `    pacha.host = ${os.hostname()}`, `    pacha.ssh.user = ${os.userInfo().username}`, `    pacha.hosts.path = ${hostsPath}`, '  ssh_key: |', '    <the private key, indented>', `  master_host_key: '${pin}'`].join('\n'));
  say();
  say('Or in SSM Parameter Store (the key as a SecureString):');
  say(`  aws ssm put-parameter --type SecureString --name ${ssm}/hosts/${host}/pacha.ssh.private_key --value file://${keyOut ?? 'KEY_FILE'}`);
  say(`  aws ssm put-parameter --type String --name ${ssm}/pacha.ssh.host_key --value '${pin}'`);
}

export async function removeHostCommand(context: Context, host: string, options: Pick<EnrolOptions, 'key' | 'authorizedKeys'>): Promise<number> {
  const problem = checkHostName(host);
  if (problem) throw new UsageError(`host name '${host}' ${problem}`);
  const file = keysFile(context, options.authorizedKeys);
  const key = options.key ? await readPublicKey(options.key) : undefined;
  const removed = await revokeHost(file, host, key);
  if (removed === 0) {
    throw new OperationError('ENOTENROLLED', `no key ${key ? 'like that ' : ''}is enrolled for ${host} in ${file}`, {
      hint: 'pacha authorized-keys lists the enrolled keys',
    });
  }
  context.out.say(`revoked ${removed} key(s) of ${host} in ${file}; its history stays under ${path.join(context.settings.require('pacha.hosts.path'), host)}`);
  context.out.result({ ok: true, host, removed, authorizedKeys: file });
  return 0;
}

/** For sshd_config's `AuthorizedKeysCommand … authorized-keys %t %k`: the enrolled lines (of the offered key). */
export async function authorizedKeysCommand(context: Context, type?: string, blob?: string): Promise<number> {
  const file = keysFile(context, undefined);
  const offered = type && blob ? asUsage(() => parsePublicKey(`${type} ${blob}`, 'the offered key')) : undefined;
  for (const line of enrolledLines(await readKeysFile(file), offered)) process.stdout.write(`${line}\n`);
  return 0;
}
