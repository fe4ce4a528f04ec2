// A real OpenSSH sshd on loopback, playing the master (../shared/TESTING.md).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { atExit } from './tmp.js';

export interface Sshd {
  port: number;
  dir: string;
  /** The host's public key line, e.g. "ssh-ed25519 AAAA…". */
  hostKey: string;
  /** known_hosts file pinning this sshd. */
  knownHosts: string;
  /** Private key a client logs in with. */
  clientKey: string;
  user: string;
  stop(): Promise<void>;
  /** Start it again on the same port with the same keys (master comes back). */
  start(): Promise<void>;
  /** SIGSTOP the listening sshd: it still accepts TCP (the kernel's backlog) but never speaks SSH. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Kill every established session (sshd's per-connection children), as a dropped network would. */
  dropSessions(): number;
  /** The listening sshd's PID (its CPU time, with its reaped children's, is the master's cost). */
  pid(): number | undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function keygen(file: string, type = 'ed25519'): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'pacha-test', '-f', file]);
}

export interface SshdOptions {
  user?: string;
  /** Offer SFTP (default yes; a hardened master with enrolled keys offers none). */
  sftp?: boolean;
  /** Start with an empty authorized_keys (keys are then enrolled with `pacha add-host --key`). */
  noKeys?: boolean;
  /** sshd's MaxStartups (default here 100; OpenSSH's own default is 10:30:100). */
  maxStartups?: string;
  /** sshd's MaxSessions (default here 50; OpenSSH's own default is 10). */
  maxSessions?: number;
  /** More sshd_config options, `Key=value` (the boot-storm bench's settings for a large fleet). */
  extra?: string[];
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pacha-sshd-'));
  mkdirSync('/run/sshd', { recursive: true });
  keygen(path.join(dir, 'host_ed25519'));
  keygen(path.join(dir, 'client_key'));
  writeFileSync(path.join(dir, 'authorized_keys'), options.noKeys ? '' : readFileSync(path.join(dir, 'client_key.pub')));
  const hostKey = readFileSync(path.join(dir, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const port = await freePort();
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKey}\n`);
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    child = spawn(
      '/usr/sbin/sshd',
      [
        '-D', '-e', '-f', '/dev/null',
        '-o', `Port=${port}`, '-o', 'ListenAddress=127.0.0.1',
        '-o', `HostKey=${path.join(dir, 'host_ed25519')}`,
        '-o', `AuthorizedKeysFile=${path.join(dir, 'authorized_keys')}`,
        '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no',
        '-o', 'UsePAM=no', '-o', 'PermitRootLogin=prohibit-password', '-o', 'StrictModes=no',
        '-o', 'PidFile=none', '-o', `MaxStartups=${options.maxStartups ?? '100'}`, '-o', `MaxSessions=${options.maxSessions ?? 50}`,
        ...(options.extra ?? []).flatMap((o) => ['-o', o]),
        // Skip root's ~/.bashrc (pyenv) on every remote command: see TESTING.md.
        '-o', 'SetEnv=SHLVL=1',
        // A plain shell account's hook directories are fetched over SFTP.
        ...(options.sftp === false ? [] : ['-o', 'Subsystem=sftp internal-sftp']),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // A running sshd must not keep a test file's process alive: it is killed at exit.
    child.unref();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    for (let i = 0; i < 200; i++) {
      if (await canConnect(port)) return;
      if (child.exitCode !== null) throw new Error(`sshd exited: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`sshd did not listen on ${port}: ${stderr}`);
  };

  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    // Hold the event loop while waiting for it to go (it was unref'ed when started).
    c.ref();
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      c.kill('SIGCONT'); // a paused sshd gets the SIGTERM only once it runs
    });
  };

  await start();
  atExit(() => {
    child?.kill('SIGCONT');
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    port,
    dir,
    hostKey,
    knownHosts,
    clientKey: path.join(dir, 'client_key'),
    user: options.user ?? os.userInfo().username,
    start,
    stop: async () => {
      await stop();
    },
    pause: () => {
      child?.kill('SIGSTOP');
    },
    resume: () => {
      child?.kill('SIGCONT');
    },
    dropSessions: () => (child?.pid === undefined ? 0 : killChildren(child.pid)),
    pid: () => child?.pid,
  };
}

function killChildren(parent: number): number {
  let killed = 0;
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Field 4 (ppid), counted after the command name's closing parenthesis.
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== parent) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      /* already gone */
    }
  }
  return killed;
}

/** Remove a temporary directory made by a test. */
export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
