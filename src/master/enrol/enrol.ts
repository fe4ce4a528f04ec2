// Enrolment on the master: the host's private directory and its key's line in authorized_keys,
// written atomically under a lock so two enrolments at once never lose each other's line.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errnoCode, OperationError } from '../../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../../fs/atomic.js';
import { hostDir } from '../layout.js';
import { LocalMaster } from '../local-master.js';
import { minimalEnv } from '../../child-env.js';
import {
  enrolledLine,
  planEnrolment,
  planRevocation,
  type EnrolOutcome,
  type ForcedCommand,
  type PublicKey,
} from './authorized-keys.js';

export async function readKeysFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return '';
    throw error;
  }
}

const LOCK_WAIT_MS = 10_000;

/** Run `change` on the file's text with the file locked; write the result atomically (mode kept, else 0600). */
async function editKeysFile<T>(file: string, change: (text: string) => { text: string; result: T }): Promise<T> {
  await ensurePrivateDir(path.dirname(file));
  const lock = `${file}.pacha-lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close();
      break;
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
      if (Date.now() > deadline) {
        throw new OperationError('EKEYSLOCKED', `${lock} has been held for ${LOCK_WAIT_MS / 1000} s`, {
          hint: `another pacha add-host or remove-host is editing ${file}; if none runs, remove ${lock}`,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    const before = await readKeysFile(file);
    const { text, result } = change(before);
    if (text !== before) {
      const mode = await stat(file).then((s) => s.mode & 0o777, () => 0o600);
      await writeFileAtomic(file, text, mode & ~0o022);
    }
    return result;
  } finally {
    await rm(lock, { force: true });
  }
}

export interface EnrolOptions {
  hostsPath: string;
  host: string;
  keysFile: string;
  key: PublicKey;
  command: ForcedCommand;
}

export async function enrolHost(options: EnrolOptions): Promise<{ hostDir: 'created' | 'exists'; key: EnrolOutcome; line: string }> {
  const line = enrolledLine(options.command, options.key, options.host);
  const master = new LocalMaster(options.hostsPath);
  const created = await master.addHost(options.host);
  // A host dir made before enrolment existed (umask 022) becomes private too.
  await chmod(hostDir(options.hostsPath, options.host), 0o700);
  const key = await editKeysFile(options.keysFile, (text) => {
    const plan = planEnrolment(text, options.key, options.host, line, options.keysFile);
    return { text: plan.text, result: plan.outcome };
  });
  return { hostDir: created, key, line };
}

export async function revokeHost(keysFile: string, host: string, key?: PublicKey): Promise<number> {
  return editKeysFile(keysFile, (text) => {
    const plan = planRevocation(text, host, key);
    return { text: plan.text, result: plan.removed };
  });
}

/** A new ed25519 key pair for host, made by ssh-keygen in a private scratch dir that is removed. */
export async function generateKeyPair(host: string): Promise<{ privateKey: string; publicKey: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pacha-keygen-'));
  try {
    const file = path.join(dir, 'key');
    await new Promise<void>((resolve, reject) =>
      execFile('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `pacha:${host}`, '-f', file], { env: minimalEnv() }, (error, _o, stderr) =>
        error ? reject(new OperationError('EKEYGEN', `ssh-keygen failed: ${String(stderr).trim() || error.message}`, { hint: 'install openssh-client on the master' })) : resolve(),
      ),
    );
    return { privateKey: await readFile(file, 'utf8'), publicKey: await readFile(`${file}.pub`, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The master's public host key ("ssh-ed25519 AAAA…", comment dropped), when the file is there. */
export async function readHostKey(file: string): Promise<string | undefined> {
  if (!existsSync(file)) return undefined;
  return (await readFile(file, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
}
