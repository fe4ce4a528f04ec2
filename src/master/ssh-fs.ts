// MasterFs over one ssh2 connection: SFTP for listing, lstat, mkdir and downloads; exec of
// `sh -c SCRIPT` for the rest (sh explicitly, whatever the user's login shell is).
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { MasterError } from '../errors.js';
import { NO_HOSTS_PATH_STATUS, ensureRepositoryScript } from './layout.js';
import type { MasterEntry, MasterFs } from './layout-operations.js';
import { hostsPathMissing, remoteCommandFailed } from './master-errors.js';
import { shellCommand, shellQuote } from './shell-quote.js';

export interface ShellResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const SFTP_NO_SUCH_FILE = 2;

function sftpStatus(error: unknown): number | undefined {
  return error && typeof error === 'object' && 'code' in error && typeof error.code === 'number' ? error.code : undefined;
}

function isMissing(error: unknown): boolean {
  return sftpStatus(error) === SFTP_NO_SUCH_FILE;
}

/** ssh2's words for a request that failed because the connection went, not because the master said no. */
function isConnectionGone(error: unknown): boolean {
  return error instanceof Error && /No response from server|Not connected/.test(error.message);
}

export class SshFs implements MasterFs {
  private sftpSession: Promise<SFTPWrapper> | undefined;
  /** What the master said to `pacha-gate hello` when it was not a gate, for the no-SFTP error. */
  noGateAnswer: string | undefined;

  constructor(
    private readonly client: Client,
    private readonly label: string,
  ) {}

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise<SFTPWrapper>((resolve, reject) => {
      try {
        this.client.sftp((error, sftp) => {
          if (error) return reject(isConnectionGone(error) ? this.failure('opening SFTP', '', error) : this.noSftp(error));
          sftp.on('error', () => undefined); // a broken session fails its pending requests; never the process
          resolve(sftp);
        });
      } catch (error) {
        reject(this.failure('opening SFTP', '', error)); // "Not connected": the connection already went
      }
    });
    return this.sftpSession;
  }

  private noSftp(error: unknown): MasterError {
    const gate = this.noGateAnswer ? `; and \`pacha-gate hello\` answered: ${this.noGateAnswer.split('\n')[0]}` : '';
    return new MasterError(
      `${this.label}: the master offers neither pacha's gate nor SFTP (${error instanceof Error ? error.message : String(error)}${gate})`,
      {
        code: 'ENOSFTP',
        cause: error,
        hint:
          'enrol this host\'s key on the master (pacha add-host HOST --key FILE: see "Setting up the master" in the README), ' +
          'or add `Subsystem sftp internal-sftp` to the master\'s sshd_config for a plain shell account',
      },
    );
  }

  private failure(what: string, file: string, error: unknown): MasterError {
    const text = error instanceof Error ? error.message : String(error);
    return new MasterError(`${this.label}: ${what}${file ? ` ${file}` : ''} failed: ${text}`, {
      code: 'EREMOTE',
      cause: error,
      hint: 'check the path and its permissions on the master',
    });
  }

  async list(dir: string): Promise<MasterEntry[] | undefined> {
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => {
      sftp.readdir(dir, (error, list) => {
        if (error) return isMissing(error) ? resolve(undefined) : reject(this.failure('listing', dir, error));
        resolve(list.filter((e) => e.filename !== '.' && e.filename !== '..').map((e) => ({ name: e.filename, mode: e.attrs.mode })));
      });
    });
  }

  async lstatMode(file: string): Promise<number | undefined> {
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => {
      sftp.lstat(file, (error, stats) => {
        if (error) return isMissing(error) ? resolve(undefined) : reject(this.failure('lstat of', file, error));
        resolve(stats.mode);
      });
    });
  }

  async mkdir(dir: string): Promise<boolean> {
    const sftp = await this.sftp();
    const made = await new Promise<unknown>((resolve) => sftp.mkdir(dir, { mode: 0o700 }, (error) => resolve(error ?? true)));
    if (made === true) return true;
    // SFTP v3 says only "failure" for an existing directory: look before deciding.
    if ((await this.lstatMode(dir)) !== undefined) return false;
    throw this.failure('mkdir', dir, made);
  }

  async download(remote: string, local: string): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) => {
      sftp.fastGet(remote, local, (error) => (error ? reject(this.failure('copying', remote, error)) : resolve()));
    });
  }

  async ensureRepository(hostsPath: string, host: string, name: string, label: string): Promise<'created' | 'exists'> {
    const result = await this.sh(ensureRepositoryScript(hostsPath, host, name, shellQuote));
    if (result.status === NO_HOSTS_PATH_STATUS) throw hostsPathMissing(label, hostsPath);
    const state = result.stdout.trim();
    if (result.status !== 0 || (state !== 'created' && state !== 'exists')) {
      throw remoteCommandFailed(label, `creating repository ${host}/${name}`, result.status, result.stderr);
    }
    return state;
  }

  /** Run a POSIX sh script on the master (a plain shell account: `sh` explicitly, whatever the login shell). */
  sh(script: string): Promise<ShellResult> {
    return this.exec(shellCommand(['sh', '-c', script]));
  }

  /** One SSH exec request's channel (stdout/stdin, stderr beside them): the command line as sshd receives it. */
  channel(command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      try {
        this.client.exec(command, (error, stream) => (error ? reject(this.failure('running a command', '', error)) : resolve(stream)));
      } catch (error) {
        // ssh2 throws "Not connected" when the connection already went: a dropped connection, like any other.
        reject(this.failure('running a command', '', error));
      }
    });
  }

  /** One SSH exec request, its output collected. */
  async exec(command: string): Promise<ShellResult> {
    const stream = await this.channel(command);
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      stream.on('error', (streamError: unknown) => reject(this.failure('running a command', '', streamError)));
      stream.stderr.on('error', () => undefined);
      stream.on('data', (data: Buffer) => (stdout += data.toString()));
      stream.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      stream.on('close', (status: number | null) => resolve({ status: status ?? null, stdout, stderr }));
    });
  }
}
