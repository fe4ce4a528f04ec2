// The master over SSH: ssh2 (one connection per SshMaster, opened on first use and reopened
// after it drops) for listing, creating and fetching; OpenSSH via GIT_SSH_COMMAND for git.
import os from 'node:os';
import type { Client } from 'ssh2';
import { resolveIdentity, type ClientIdentity } from './client-identity.js';
import { describePolicy, hostKeyPolicy, loadHostKeySources, type HostKeyPolicy } from './host-key-sources.js';
import { repositoryDir } from './layout.js';
import { LayoutMaster, type MasterFs } from './layout-master.js';
import { connectSsh, endpointLabel, type SshEndpoint } from './ssh-connect.js';
import { SshFs } from './ssh-fs.js';
import { ensureSshStateDir, gitSshCommand, knownHostsFileFor, writePinnedKnownHosts } from './ssh-options.js';

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

  gitEnv(): Record<string, string> {
    const env: Record<string, string> = {
      PATH: this.options.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: this.options.home,
      GIT_SSH_COMMAND: gitSshCommand({
        stateDir: this.options.stateDir,
        ...knownHostsFileFor(this.policy, this.options.stateDir),
        keyFile: this.identity.explicit ? this.identity.keyFile : undefined,
      }),
    };
    if (!this.identity.explicit && this.identity.agentSocket) env.SSH_AUTH_SOCK = this.identity.agentSocket;
    return env;
  }

  async close(): Promise<void> {
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

