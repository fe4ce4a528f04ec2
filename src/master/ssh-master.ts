// The master over SSH: ssh2 (one connection per SshMaster, opened on first use and reopened
// after it drops) for listing, creating and fetching; OpenSSH via GIT_SSH_COMMAND for git.
// Each connection first asks `pacha-gate hello`: a key enrolled on the master (a forced
// `pacha serve HOST`) answers it and is then spoken to in the gate's verbs; a plain shell
// account does not know the word, and is spoken to with SFTP and sh as before.
import { execFile } from 'node:child_process';
import os from 'node:os';
import type { Client } from 'ssh2';
import { checkKeyFileMode, resolveIdentity, type ClientIdentity } from './client-identity.js';
import { describePolicy, hostKeyPolicy, loadHostKeySources, type HostKeyPolicy } from './host-key-sources.js';
import { ConfigError } from '../errors.js';
import { GateClient } from './gate/client.js';
import { gateCommand, parseHello } from './gate/protocol.js';
import { PRIVATE_PUSH_OPTIONS, repositoryDir, type HookPhase } from './layout.js';
import { LayoutOperations, type MasterOperations } from './layout-operations.js';
import type { CopyRefsOptions, HookFile, HostListing, Master } from './master.js';
import { minimalEnv } from '../child-env.js';
import { connectSsh, endpointLabel, type SshEndpoint } from './ssh-connect.js';
import { SshFs, type ShellResult } from './ssh-fs.js';
import { fetchByUploadPack } from './upload-pack-fetch.js';
import { gitQuote } from './shell-quote.js';
import { isConnectTimeout, nextConnectTimeout } from './connect-patience.js';
import { NO_DROP_RETRY, retryDroppedConnections, type RetryDropsOptions } from './transient.js';
import { FAST_UPDATE_GC_EVERY, fastUpdateScript } from './fast-update.js';
import { ShellSession } from './shell-session.js';
import { GateSession } from './gate/session-client.js';
import {
  CONNECT_TIMEOUT_SECONDS,
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

/** How long a one-round-trip update may take before the daemon gives up on its session and pushes with git. */
const FAST_UPDATE_TIMEOUT_MS = 30_000;

/** A host as it goes in a URL: IPv6 addresses in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

interface Connection {
  client: Client;
  operations: MasterOperations;
  /** Whether the key is enrolled (the gate answered). */
  gated: boolean;
  fs: SshFs;
}

export class SshMaster implements Master {
  readonly label: string;
  readonly hostsPath: string;
  private connection: Promise<Connection> | undefined;
  private gated: boolean | undefined;
  /** Set once gitEnv() was handed out: git may have opened a shared OpenSSH connection. */
  private gitUsed = false;

  private constructor(
    private readonly options: SshMasterOptions & { home: string },
    private readonly policy: HostKeyPolicy,
    private readonly identity: ClientIdentity,
  ) {
    this.label = endpointLabel(options);
    this.hostsPath = options.hostsPath;
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

  private dropRetry: RetryDropsOptions = NO_DROP_RETRY;

  retryDroppedConnections(options: RetryDropsOptions): void {
    this.dropRetry = options;
  }

  /**
   * One request over the connection (dialled on first use). Within the drop-retry budget, a
   * connection the master dropped (before it was ready, or under the request) is dialled
   * anew and the request made again; every request here is idempotent.
   */
  private request<T>(use: (operations: MasterOperations) => Promise<T>): Promise<T> {
    return retryDroppedConnections(async () => use((await this.connect()).operations), this.dropRetry);
  }

  listHosts(): Promise<string[]> {
    return this.request((o) => o.listHosts());
  }

  describeHost(host: string): Promise<HostListing | undefined> {
    return this.request((o) => o.describeHost(host));
  }

  addHost(host: string): Promise<'created' | 'exists'> {
    return this.request((o) => o.addHost(host));
  }

  ensureRepository(host: string, name: string): Promise<'created' | 'exists'> {
    return this.request((o) => o.ensureRepository(host, name));
  }

  fetchHooks(host: string, phase: HookPhase, localDir: string): Promise<HookFile[]> {
    return this.request((o) => o.fetchHooks(host, phase, localDir));
  }

  /**
   * Run a read-only POSIX sh script where the hosts live (`pacha fleet`). Only a plain shell
   * account can: a key enrolled through the gate sees its own host and runs no shell.
   */
  async runScript(script: string, purpose: string): Promise<ShellResult> {
    const connection = await this.connect();
    if (connection.gated) {
      throw new ConfigError(
        `${this.label}: this key is enrolled through the master's gate (pacha serve), which serves one host's repositories and runs no shell; ${purpose} needs to read every host`,
        {
          code: 'EGATED',
          hint: 'run it on the master itself (pacha.host = local), or from an admin machine whose key is a plain (unrestricted) login on the master account',
        },
      );
    }
    return connection.fs.sh(script);
  }

  /** Whether this master's key is enrolled (served by `pacha serve`) rather than a plain shell account. */
  async isGated(): Promise<boolean> {
    // Known from any earlier connection: a daemon whose connection dropped need not dial just to ask.
    this.gated ??= await retryDroppedConnections(async () => (await this.connect()).gated, this.dropRetry);
    return this.gated;
  }

  async pushOptions(): Promise<string[]> {
    return (await this.isGated()) ? [] : [...PRIVATE_PUSH_OPTIONS];
  }

  private connect(): Promise<Connection> {
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

  /** The next handshake's timeout: longer after one that timed out (connect-patience.ts). */
  private readyTimeoutSeconds = CONNECT_TIMEOUT_SECONDS;

  private async openConnection(): Promise<Connection> {
    if (this.identity.explicit && this.identity.keyFile) await checkKeyFileMode(this.identity.keyFile);
    const readyTimeoutSeconds = this.readyTimeoutSeconds;
    const client = await connectSsh({
      host: this.options.host,
      port: this.options.port,
      user: this.options.user,
      identity: this.identity,
      hostKeySources: await loadHostKeySources(this.policy),
      hostKeyPlaces: describePolicy(this.policy),
      home: this.options.home,
      readyTimeoutSeconds,
    }).then(
      (c) => {
        this.readyTimeoutSeconds = nextConnectTimeout(readyTimeoutSeconds, false);
        return c;
      },
      (error: unknown) => {
        this.readyTimeoutSeconds = nextConnectTimeout(readyTimeoutSeconds, isConnectTimeout(error));
        throw error;
      },
    );
    client.on('error', () => undefined); // after ready, a dropped connection surfaces as a failed request
    try {
      return { client, ...(await this.chooseOperations(client)) };
    } catch (error) {
      client.end();
      throw error;
    }
  }

  /** The gate when it answers hello; else the plain shell account (SFTP and sh). */
  private async chooseOperations(client: Client): Promise<Omit<Connection, 'client'>> {
    const fs = new SshFs(client, this.label);
    const probe = await fs.exec(gateCommand('hello'));
    const hello = probe.status === 0 ? parseHello(probe.stdout) : undefined;
    if (!hello) {
      fs.noGateAnswer = probe.stderr.trim();
      return { operations: new LayoutOperations(this.label, this.hostsPath, async () => fs), gated: false, fs };
    }
    if (hello.hostsPath !== this.hostsPath) {
      throw new ConfigError(`${this.label} keeps its hosts under ${hello.hostsPath} (its gate says so), but pacha.hosts.path is ${this.hostsPath}`, {
        code: 'EHOSTSPATH',
        hint: `set pacha.hosts.path = ${hello.hostsPath}`,
      });
    }
    return { operations: new GateClient((command) => fs.exec(command), this.label, this.hostsPath, hello), gated: true, fs };
  }

  /**
   * Master.copyRefs: git-upload-pack run through the connection already open (the one boot's
   * wait and describe used), its pack indexed here: no second connection, no OpenSSH, git or
   * sh started for the master (master/upload-pack-fetch.ts). Not retried here: callers wrap
   * it in their drop retry.
   */
  async copyRefs(host: string, name: string, gitDir: string, pick: (ref: string) => string | undefined, options: CopyRefsOptions = {}): Promise<Record<string, string>> {
    const repository = repositoryDir(this.hostsPath, host, name);
    const channel = await (await this.connect()).fs.channel(`git-upload-pack ${gitQuote(repository)}`);
    return fetchByUploadPack({ channel, label: this.repositoryUrl(host, name), gitDir, pick, depth: options.depth });
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
      persist: this.persist,
    };
  }

  private persist = false;

  /** Keep git's shared OpenSSH connection open until close() (the daemon), and push through a kept session (applyUpdate). */
  keepConnection(): void {
    this.persist = true;
  }

  private session: Promise<ShellSession | GateSession> | undefined;
  private updates = 0;

  /** The kept session: a `sh` on a plain shell account, `pacha-gate session` through the gate (opened on first use, again after it closed). */
  private updateSession(): Promise<ShellSession | GateSession> {
    const current = this.session;
    if (current) return current.then((s) => (s.usable ? s : ((this.session = undefined), this.updateSession())));
    const opened = this.connect().then((c): Promise<ShellSession | GateSession> => (c.gated ? GateSession.open(c.client) : ShellSession.open(c.client)));
    this.session = opened;
    opened.catch(() => {
      if (this.session === opened) this.session = undefined;
    });
    return opened;
  }

  /**
   * The daemon's push in one round trip (master/fast-update.ts) through its kept session;
   * only for a daemon (keepConnection). False: push with git.
   */
  async applyUpdate(host: string, name: string, update: { from: string; to: string; pack: () => Promise<Buffer | undefined> }): Promise<boolean> {
    if (!this.persist) return false;
    try {
      const pack = await update.pack();
      if (!pack) return false;
      const session = await this.updateSession();
      if (session instanceof GateSession) return (await session.apply(name, update.from, update.to, pack, FAST_UPDATE_TIMEOUT_MS)).status === 0;
      const gc = ++this.updates % FAST_UPDATE_GC_EVERY === 0;
      const script = fastUpdateScript({ repo: repositoryDir(this.hostsPath, host, name), from: update.from, to: update.to, pack, gc });
      return (await session.run(script, FAST_UPDATE_TIMEOUT_MS)).status === 0;
    } catch {
      return false;
    }
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
    const session = this.session;
    this.session = undefined;
    (await session?.catch(() => undefined))?.close();
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

