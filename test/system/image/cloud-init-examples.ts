// The user-data examples under cloud-init/, for every test that reads them: the schema
// test here, and the `pacha boot --dry-run` test (which also needs what each one should
// make pacha read). Add an example to cloud-init/ and it belongs in CLOUD_INIT_EXAMPLES.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, runCommand } from '../../helpers/image-command.js';

export const CLOUD_INIT_DIR = path.join(REPO, 'cloud-init');
export const MULTIPART_DIR = path.join(CLOUD_INIT_DIR, '04-multipart');

/** Placeholders an operator replaces before use; pacha refuses them as they are. */
export const EXAMPLE_PLACEHOLDERS = {
  sshPrivateKey: '@@PACHA_SSH_PRIVATE_KEY@@',
  masterHostKey: '@@PACHA_MASTER_HOST_KEY@@',
} as const;

export interface ExampleKeys {
  /** The whole private key file (as ssh-keygen writes it). */
  sshPrivateKey: string;
  /** `ssh-ed25519 AAAA…` */
  masterHostKey: string;
}

export interface CloudInitExample {
  /** File (or, for multipart, directory) name under cloud-init/. */
  name: string;
  kind: 'cloud-config' | 'multipart';
  /** The #cloud-config file(s) to hand to `cloud-init schema`. */
  cloudConfigFiles: string[];
  /** Whether it holds EXAMPLE_PLACEHOLDERS (fill them with real keys before pacha reads it). */
  hasPlaceholders: boolean;
  /** What pacha should read from the user data: the identity and settings (by key name). */
  expect: { hostname?: string; settings: Record<string, string | ((keys: ExampleKeys) => string)> };
}

export const CLOUD_INIT_EXAMPLES: readonly CloudInitExample[] = [
  {
    name: '01-user-data-all-in-one.yaml',
    kind: 'cloud-config',
    cloudConfigFiles: [path.join(CLOUD_INIT_DIR, '01-user-data-all-in-one.yaml')],
    hasPlaceholders: true,
    expect: {
      hostname: 'bar',
      settings: {
        'pacha.host': 'master.example.com',
        'pacha.ssh.user': 'bar_user',
        'pacha.hosts.path': '/pacha/hosts',
        'pacha.ssh.private_key': (keys) => keys.sshPrivateKey,
        'pacha.ssh.host_key': (keys) => keys.masterHostKey,
      },
    },
  },
  {
    name: '02-user-data-ssm.yaml',
    kind: 'cloud-config',
    cloudConfigFiles: [path.join(CLOUD_INIT_DIR, '02-user-data-ssm.yaml')],
    hasPlaceholders: false,
    expect: { settings: { 'pacha.ssm.path': '/pacha/prod' } },
  },
  {
    name: '03-write-files-runcmd.yaml',
    kind: 'cloud-config',
    cloudConfigFiles: [path.join(CLOUD_INIT_DIR, '03-write-files-runcmd.yaml')],
    hasPlaceholders: false,
    // The fleet settings go to /etc/pacha.conf through write_files, not through user data.
    expect: { hostname: 'bar', settings: {} },
  },
  {
    name: '04-multipart',
    kind: 'multipart',
    cloudConfigFiles: [path.join(MULTIPART_DIR, 'cloud-config.yaml')],
    hasPlaceholders: false,
    expect: { hostname: 'bar', settings: { 'pacha.ssm.path': '/pacha/prod' } },
  },
];

/** The expected settings with key-dependent values resolved. */
export function expectedSettings(example: CloudInitExample, keys: ExampleKeys): Record<string, string> {
  return Object.fromEntries(
    Object.entries(example.expect.settings).map(([k, v]) => [k, typeof v === 'function' ? v(keys) : v]),
  );
}

/** Replace the placeholders with real keys, the private key indented like its placeholder line. */
export function fillPlaceholders(text: string, keys: ExampleKeys): string {
  return text
    .replace(new RegExp(`^([ \\t]*)${EXAMPLE_PLACEHOLDERS.sshPrivateKey}[ \\t]*$`, 'm'), (_line, indent: string) =>
      keys.sshPrivateKey
        .trimEnd()
        .split('\n')
        .map((l) => indent + l)
        .join('\n'),
    )
    .replaceAll(EXAMPLE_PLACEHOLDERS.masterHostKey, keys.masterHostKey);
}

/** The command README.md in 04-multipart/ tells operators to run, split into argv. */
export function makeMimeCommandFromReadme(): string[] {
  const readme = readFileSync(path.join(MULTIPART_DIR, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('cloud-init devel make-mime '));
  if (!line) throw new Error('cloud-init/04-multipart/README.md has no `cloud-init devel make-mime` line');
  return line.replace(/\s*>.*$/, '').trim().split(/\s+/);
}

/** Build the multipart user data with the real `cloud-init devel make-mime`, into `outFile`. */
export function buildMultipart(outFile: string): void {
  const [cmd, ...args] = makeMimeCommandFromReadme();
  const r = runCommand(cmd!, args, { cwd: MULTIPART_DIR });
  if (r.status !== 0) throw new Error(r.describe);
  writeFileSync(outFile, r.stdout);
}

/**
 * A user-data file for `example` as an instance would receive it, written under `dir`:
 * placeholders filled with `keys`, multipart assembled by make-mime. Returns its path.
 */
export function exampleUserData(example: CloudInitExample, keys: ExampleKeys, dir: string): string {
  const out = path.join(dir, `${example.name.replace(/\.yaml$/, '')}.user-data`);
  if (example.kind === 'multipart') {
    buildMultipart(out);
  } else {
    writeFileSync(out, fillPlaceholders(readFileSync(example.cloudConfigFiles[0]!, 'utf8'), keys), { mode: 0o600 });
  }
  return out;
}

/** Real throwaway keys (ssh-keygen) to fill the placeholders with, generated under `dir`. */
export function generateExampleKeys(dir: string): ExampleKeys {
  const keygen = (name: string): string => {
    const file = path.join(dir, name);
    const r = runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', file]);
    if (r.status !== 0) throw new Error(r.describe);
    return file;
  };
  const client = keygen('example_client_key');
  const host = keygen('example_host_key');
  const [type, blob] = readFileSync(`${host}.pub`, 'utf8').trim().split(/\s+/);
  return { sshPrivateKey: readFileSync(client, 'utf8'), masterHostKey: `${type} ${blob}` };
}
