// A host whose master is an S3 bucket on moto_server: its config (pacha.host = s3://…), state
// dir and root; the CLI runs with the bucket's endpoint and credentials in its environment.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runPacha, type RunResult } from './cli.js';
import type { MotoS3 } from './moto-s3.js';
import { tempDir } from './tmp.js';

export interface S3World {
  dir: string;
  root: string;
  stateDir: string;
  config: string;
  host: string;
  pacha(args: string[], env?: Record<string, string>): Promise<RunResult>;
  writeConfig(extra?: string[]): void;
}

export const PREFIX = 'hosts';

export function makeS3World(s3: MotoS3, options: { host?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } = {}): S3World {
  const dir = tempDir('pacha-s3-world-');
  const host = options.host ?? 'bar';
  const root = path.join(dir, 'host');
  const stateDir = path.join(dir, 'state');
  mkdirSync(root, { recursive: true });
  const config = path.join(dir, 'pacha.conf');
  const env = s3.env(options.credentials);
  const world: S3World = {
    dir,
    root,
    stateDir,
    config,
    host,
    pacha: (args, extra) => runPacha(['-c', config, ...args], { env: { ...env, ...extra } }),
    writeConfig: (extra = []) =>
      writeFileSync(
        config,
        `${[`pacha.hostname = ${host}`, `pacha.host = s3://${s3.bucket}/${PREFIX}`, `pacha.state.path = ${stateDir}`, 'pacha.hooks.timeout = 20', 'pacha.s3.timeout = 5', ...extra].join('\n')}\n`,
      ),
  };
  world.writeConfig();
  return world;
}
