// The master over SSH: ssh2 (one connection per SshMaster, opened on first use and reopened
// after it drops) for listing, creating and fetching; OpenSSH via GIT_SSH_COMMAND for git.
import { execFile } from 'node:child_process';
import os from 'node:os';
import type { Client } from 'ssh2';
import { resolveIdentity, type ClientIdentity } from './client-identity.js';
import { describePolicy, hostKeyPolicy, loadHostKeySources, type HostKeyPolicy } from './host-key-sources.js';
import { repositoryDir } from './layout.js';
import { LayoutMaster, type MasterFs } from './layout-master.js';
import { minimalEnv } from './minimal-env.js';
import { connectSsh, endpointLabel, type SshEndpoint } from './ssh-connect.js';
import { SshFs } from './ssh-fs.js';
import {
  controlStopArgs,
  ensureSshStateDir,
  gitSshCommand,
  knownHostsFileFor,
  writePinnedKnownHosts,
  type SshCommandOptions,
} from './ssh-options.js';

export interface SshMasterOptions extends SshEndpoint {
  hostsPath: string;
  stateDir: string;
  /** pacha.ssh.key */
  keyFile?: string | undefined;
  /** pacha.ssh.host_key */
  hostKey?: string | undefined;
  /** pacha.ssh.known_hosts */
  knownHosts?: string | undefined;
  /** Defaults: os.homedir(), process.env.SSH_AUTH_SOCK, process.env.PATH. */
  home?: string;
  agentSocket?: string | undefined;
  path?: string | undefined;
}

/** A host as it goes in a URL: IPv6 addresses in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export class SshMaster extends LayoutMaster {
  readonly label: string;
  private connection: Promise<{ client: Client; fs: SshFs }> | undefined;
  /** Set once gitEnv() was handed out: git may have opened a shared OpenSSH connection. */
  private gitUsed = false;

  private constructor(
    private readonly options: SshMasterOptions & { home: string },
    private readonly policy: HostKeyPolicy,
    private readonly identity: ClientIdentity,
  ) {
    super(options.hostsPath);
    this.label = endpointLabel(options);
  }

  /** Prepare what git needs (state/ssh, the pinned known_hosts); connects lazily, on first use. */
  static async open(options: SshMasterOptions): Promise<SshMaster> {
    const home = options.home ?? os.homedir();
    const policy = hostKeyPolicy({ hostKey: options.hostKey, knownHosts: options.knownHosts }, home);
    await ensureSshStateDir(options.stateDir);
    if (policy.kind === 'pinned') await writePinnedKnownHosts(options.stateDir, options.host, options.port, policy.key);
    const agentSocket = 'agentSocket' in options ? options.agentSocket : process.env.SSH_AUTH_SOCK;
    const identity = await resolveIdentity(options.keyFile, home, agentSocket);
    return new SshMaster({ ...options, home }, policy, identity);
  }

  protected async fs(): Promise<MasterFs> {
    return (await this.connect()).fs;
  }

  private connect(): Promise<{ client: Client; fs: SshFs }> {
    if (!this.connection) {
      const connection = this.openConnection();
      this.connection = connection;
      // A failed or dropped connection is forgotten, so the next call (a daemon's retry) dials again.
      const forget = (): void => {
        if (this.connection === connection) this.connection = undefined;
      };
      connection.then((c) => c.client.once('close', forget), forget);
    }
    return this.connection;
  }

  private async openConnection(): Promise<{ client: Client; fs: SshFs }> {
    const client = await connectSsh({
      host: this.options.host,
      port: this.options.port,
      user: this.options.user,
      identity: this.identity,
      hostKeySources: await loadHostKeySources(this.policy),
      hostKeyPlaces: describePolicy(this.policy),
      home: this.options.home,
    });
    client.on('error', () => undefined); // after ready, a dropped connection surfaces as a failed request
    return { client, fs: new SshFs(client, this.label) };
  }

  repositoryUrl(host: string, name: string): string {
    const { user, port } = this.options;
    return `ssh://${user}@${urlHost(this.options.host)}:${port}${repositoryDir(this.hostsPath, host, name)}`;
  }

  private sshCommandOptions(): SshCommandOptions {
    return {
      stateDir: this.options.stateDir,
      ...knownHostsFileFor(this.policy, this.options.stateDir),
      keyFile: this.identity.explicit ? this.identity.keyFile : undefined,
    };
  }

  private baseEnv(): { PATH: string; HOME: string } {
    return minimalEnv({ path: this.options.path, home: this.options.home });
  }

  gitEnv(): Record<string, string> {
    this.gitUsed = true;
    const env: Record<string, string> = {
      ...this.baseEnv(),
      GIT_SSH_COMMAND: gitSshCommand(this.sshCommandOptions()),
    };
    if (!this.identity.explicit && this.identity.agentSocket) env.SSH_AUTH_SOCK = this.identity.agentSocket;
    return env;
  }

  /** Stop OpenSSH's shared connection if git may have opened one (see controlStopArgs). */
  private async stopSharedConnection(): Promise<void> {
    if (!this.gitUsed) return;
    this.gitUsed = false;
    const [command, ...args] = controlStopArgs(this.sshCommandOptions(), this.options);
    const env = this.baseEnv();
    // When there is no shared connection, ssh says so and exits 255: nothing to do then.
    await new Promise<void>((resolve) => execFile(command!, args, { env, timeout: 5000 }, () => resolve()));
  }

  async close(): Promise<void> {
    await this.stopSharedConnection();
    const connection = this.connection;
    this.connection = undefined;
    const opened = await connection?.catch(() => undefined);
    if (!opened) return;
    await new Promise<void>((resolve) => {
      opened.client.once('close', () => resolve());
      opened.client.end();
    });
  }
}

