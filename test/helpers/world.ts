// A small world for end-to-end tests: a master (a real sshd on loopback, or a local
// directory), a host's config file and state dir, and a root under which the host's
// tracked paths live. Commands run as the built CLI in a child process.
import { runPacha, type RunResult } from './cli.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { keygen, startSshd, type Sshd } from './sshd.js';
import { tempDir } from './tmp.js';

// One runner for the CLI (helpers/cli.ts), re-exported for the tests that import it from here.
export { CLI, runPacha, type RunResult } from './cli.js';

export interface World {
  dir: string;
  /** Where the host's tracked paths live (stands for '/'). */
  root: string;
  masterDir: string;
  stateDir: string;
  config: string;
  sshd?: Sshd;
  /** Run pacha with this world's config. */
  pacha(args: string[], env?: Record<string, string>): Promise<RunResult>;
  /** Write the config again with more lines (e.g. a wrong host key). */
  writeConfig(extra?: string[]): void;
}

export interface WorldOptions {
  ssh: boolean;
  host?: string;
  /**
   * A hardened master: sshd offers no SFTP, and authorized_keys holds only the host's key,
   * enrolled with `pacha add-host HOST --key` (its forced command is `pacha serve HOST`).
   */
  gate?: boolean;
}

/** The master's own config file (hosts path, gate log) and the enrolment of one host's key. */
export async function enrolOnMaster(world: Pick<World, 'dir' | 'masterDir'>, sshd: Sshd, host: string, publicKey: string): Promise<RunResult> {
  const masterConfig = path.join(world.dir, 'master.conf');
  writeFileSync(masterConfig, `pacha.hosts.path = ${world.masterDir}\npacha.serve.log = ${path.join(world.dir, 'serve.log')}\n`);
  return runPacha(['-c', masterConfig, 'add-host', host, '--key', publicKey, '--authorized-keys', path.join(sshd.dir, 'authorized_keys')]);
}

export async function makeWorld(options: WorldOptions): Promise<World> {
  const dir = tempDir('pacha-world-');
  const root = path.join(dir, 'host');
  const masterDir = path.join(dir, 'master');
  const stateDir = path.join(dir, 'state');
  mkdirSync(root, { recursive: true });
  mkdirSync(masterDir, { recursive: true });
  const sshd = options.ssh ? await startSshd(options.gate ? { sftp: false, noKeys: true } : {}) : undefined;
  if (sshd && options.gate) {
    const enrolled = await enrolOnMaster({ dir, masterDir }, sshd, options.host ?? 'bar', `${sshd.clientKey}.pub`);
    if (enrolled.code !== 0) throw new Error(`enrolment failed: ${enrolled.stderr}`);
  }
  const config = path.join(dir, 'pacha.conf');
  const base = (): string[] => [
    '[DEFAULT]',
    `pacha.hostname = ${options.host ?? 'bar'}`,
    `pacha.hosts.path = ${masterDir}`,
    `pacha.state.path = ${stateDir}`,
    'pacha.hooks.timeout = 20',
    ...(sshd
      ? [
          'pacha.host = 127.0.0.1',
          `pacha.ssh.port = ${sshd.port}`,
          `pacha.ssh.user = ${sshd.user}`,
          `pacha.ssh.key = ${sshd.clientKey}`,
          `pacha.ssh.known_hosts = ${sshd.knownHosts}`,
        ]
      : ['pacha.host = local']),
  ];
  const world: World = {
    dir,
    root,
    masterDir,
    stateDir,
    config,
    ...(sshd ? { sshd } : {}),
    pacha: (args, env) => runPacha(['-c', config, ...args], env ? { env } : {}),
    writeConfig: (extra = []) => writeFileSync(config, `${[...base(), ...extra].join('\n')}\n`),
  };
  world.writeConfig();
  return world;
}

/**
 * Another host on a gated world's master: its own key (enrolled for it), root, state dir and
 * config. Returns a World whose pacha() runs as that host.
 */
export async function addEnrolledHost(world: World, host: string): Promise<World & { key: string }> {
  const sshd = world.sshd!;
  const dir = path.join(world.dir, host);
  const root = path.join(dir, 'host');
  const stateDir = path.join(dir, 'state');
  mkdirSync(root, { recursive: true });
  const key = path.join(dir, 'id_ed25519');
  keygen(key);
  const enrolled = await enrolOnMaster(world, sshd, host, `${key}.pub`);
  if (enrolled.code !== 0) throw new Error(`enrolment of ${host} failed: ${enrolled.stderr}`);
  const config = path.join(dir, 'pacha.conf');
  const lines = (extra: string[]): string[] => [
    `pacha.hostname = ${host}`,
    `pacha.hosts.path = ${world.masterDir}`,
    `pacha.state.path = ${stateDir}`,
    'pacha.hooks.timeout = 20',
    'pacha.host = 127.0.0.1',
    `pacha.ssh.port = ${sshd.port}`,
    `pacha.ssh.user = ${sshd.user}`,
    `pacha.ssh.key = ${key}`,
    `pacha.ssh.known_hosts = ${sshd.knownHosts}`,
    ...extra,
  ];
  const other: World & { key: string } = {
    dir,
    root,
    masterDir: world.masterDir,
    stateDir,
    config,
    sshd,
    key,
    pacha: (args, env) => runPacha(['-c', config, ...args], env ? { env } : {}),
    writeConfig: (extra = []) => writeFileSync(config, `${lines(extra).join('\n')}\n`),
  };
  other.writeConfig();
  return other;
}

/** One directory per name under the world's etc/, holding `<name>.conf`, each watched; their paths. */
export async function watchConfDirs(world: World, names: readonly string[]): Promise<string[]> {
  const dirs: string[] = [];
  for (const name of names) {
    const dir = path.join(world.root, 'etc', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${name}.conf`), `${name} = 1\n`);
    const r = await world.pacha(['watch', dir]);
    if (r.code !== 0) throw new Error(`pacha watch ${dir} failed (exit ${r.code}): ${r.stderr}`);
    dirs.push(dir);
  }
  return dirs;
}
