// A fresh instance booting from an image: its own user data, instance data, an image-wide
// config file with nothing host-specific, a state dir, and `pacha boot` run as the CLI.
// The master is whatever the user data says (a real sshd in these tests); SSM is moto.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BootReport } from '../../src/boot/report.js';
import { runPacha, type RunResult } from './cli.js';
import { MOTO_ENV } from './moto.js';
import type { Sshd } from './sshd.js';
import { tempDir } from './tmp.js';

export interface Instance {
  dir: string;
  state: string;
  userData: string;
  instanceData: string;
  /** The image's /etc/pacha.conf: present, nothing host-specific. */
  imageConfig: string;
  /** `pacha.conf` lines for this instance's master, as the user data's `config: |` carries them. */
  masterLines: string[];
  /** Write the user data: `body` goes under `pacha:` (indented here). */
  writeUserData(body: string): void;
  boot(args: string[], env?: Record<string, string>): Promise<RunResult>;
  /** Another pacha command on this instance, with the settings boot used written as a config file. */
  pacha(args: string[]): Promise<RunResult>;
  report(): BootReport;
}

export const indent = (text: string, spaces: number): string =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => ' '.repeat(spaces) + l)
    .join('\n');

export interface InstanceOptions {
  sshd: Sshd;
  hostsPath: string;
  /** Port in the user data (default the sshd's): a closed one plays a master that never answers. */
  port?: number;
  /** Extra pacha.conf lines in the user data. */
  extra?: string[];
  /** Added to every boot's environment (SSM endpoint, IMDS …). */
  env?: Record<string, string>;
}

export function makeInstance(options: InstanceOptions): Instance {
  const dir = tempDir('pacha-instance-');
  const state = path.join(dir, 'state');
  const imageConfig = path.join(dir, 'image-pacha.conf');
  writeFileSync(imageConfig, '# baked into the image: nothing host-specific\npacha.log.level = info\n');
  const masterLines = [
    'pacha.host = 127.0.0.1',
    `pacha.ssh.port = ${options.port ?? options.sshd.port}`,
    `pacha.ssh.user = ${options.sshd.user}`,
    `pacha.hosts.path = ${options.hostsPath}`,
    `pacha.state.path = ${state}`,
    'pacha.hooks.timeout = 20',
    ...(options.extra ?? []),
  ];
  const instance: Instance = {
    dir,
    state,
    userData: path.join(dir, 'user-data.txt'),
    instanceData: path.join(dir, 'instance-data.json'),
    imageConfig,
    masterLines,
    writeUserData: (body) => writeFileSync(instance.userData, `#cloud-config\npacha:\n${indent(body, 2)}\n`),
    boot: (args, env = {}) =>
      runPacha(['-c', imageConfig, 'boot', '--user-data', instance.userData, '--instance-data', instance.instanceData, ...args], {
        // PACHA_STATE_PATH too: a boot that fails before reading the user data reports there, not in /var/lib/pacha.
        env: { AWS_EC2_METADATA_DISABLED: 'true', PACHA_STATE_PATH: state, ...MOTO_ENV, ...options.env, ...env },
      }),
    pacha: (args) => {
      const config = path.join(dir, 'after-boot.conf');
      const hostname = instance.report().host;
      writeFileSync(
        config,
        `${[...masterLines, `pacha.hostname = ${hostname}`, `pacha.ssh.key = ${state}/ssh/id_master`, `pacha.ssh.known_hosts = ${state}/ssh/known_hosts`].join('\n')}\n`,
      );
      return runPacha(['-c', config, ...args]);
    },
    report: () => JSON.parse(readFileSync(path.join(state, 'boot.json'), 'utf8')) as BootReport,
  };
  return instance;
}

/** The user data's `config: |` block for these lines. */
export function configBlock(lines: string[]): string {
  return `config: |\n${indent(lines.join('\n'), 2)}`;
}
