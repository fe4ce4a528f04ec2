// Where settings come from on a plain command: defaults < config file < PACHA_* < flags.
// (`pacha boot` adds SSM and user data between the file and the environment.)
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { environmentLayer } from './env.js';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from './file.js';
import { bootSettingsLayer } from './boot-settings.js';
import { KEYS, type KeyName } from './keys.js';
import { resolveSettings, type Layer, type Notice, type Settings } from './settings.js';

export interface LoadOptions {
  /** -c/--config */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Values given as command-line flags: key -> [raw value, flag name]. */
  flags?: Partial<Record<KeyName, { raw: string; flag: string }>>;
  /** Layers between the config file and the environment (boot: SSM, user data). */
  extraLayers?: Layer[];
  /**
   * Read what the last `pacha boot` saved in the state dir (default: yes for plain commands;
   * boot itself passes extraLayers and gathers afresh).
   */
  includeBootSettings?: boolean;
}

/** The state dir as the flags, the environment, the file or the default say, before merging. */
function stateDirFrom(options: LoadOptions, fileLayer: Layer | undefined): string {
  const env = options.env ?? process.env;
  return (
    options.flags?.['pacha.state.path']?.raw ??
    (env.PACHA_STATE_PATH || undefined) ??
    fileLayer?.entries.find((e) => e.key === 'pacha.state.path')?.raw ??
    String(KEYS['pacha.state.path'].default)
  );
}

/** Absolute, so that origins and errors name the file the same way wherever pacha ran. */
export function configPathFrom(options: LoadOptions): { path: string; explicit: boolean } {
  const env = options.env ?? process.env;
  if (options.configPath) return { path: path.resolve(options.configPath), explicit: true };
  if (env.PACHA_CONFIG) return { path: path.resolve(env.PACHA_CONFIG), explicit: true };
  return { path: DEFAULT_CONFIG_PATH, explicit: false };
}

export function flagsLayer(flags: LoadOptions['flags'] = {}): Layer {
  return {
    source: 'the command line',
    entries: Object.entries(flags).map(([key, flag]) => ({ key, raw: flag!.raw, origin: `flag:${flag!.flag}` })),
  };
}

export async function loadSettings(options: LoadOptions = {}): Promise<Settings> {
  const { path: file, explicit } = configPathFrom(options);
  const fileLayer = await loadConfigFile(file);
  const notices: Notice[] = [];
  if (!fileLayer) {
    notices.push({
      level: explicit ? 'warn' : 'info',
      message: `config file ${file} not found; using defaults and the environment`,
    });
  }
  const includeBoot = options.includeBootSettings ?? options.extraLayers === undefined;
  const bootLayer = includeBoot ? await bootSettingsLayer(stateDirFrom(options, fileLayer)) : undefined;
  const layers = [
    ...(fileLayer ? [fileLayer] : []),
    ...(bootLayer ? [bootLayer] : []),
    ...(options.extraLayers ?? []),
    await environmentLayer(options.env),
    flagsLayer(options.flags),
  ];
  return resolveSettings(layers, { path: file, found: fileLayer !== undefined }, notices);
}

/**
 * A command that needs the master calls this: a missing config file is an error only when
 * nothing else said where the master is.
 */
export function requireMasterSettings(settings: Settings): void {
  const file = settings.configFile;
  if (file && !file.found && !settings.isSet('pacha.host') && !settings.isSet('pacha.hosts.path')) {
    throw new ConfigError(`config file ${file.path} not found, and nothing else says where the master is`, {
      code: 'ENOCONFIG',
      hint: `create ${file.path} (pacha.host, pacha.ssh.user, pacha.hosts.path), pass -c FILE, or set PACHA_HOST and PACHA_HOSTS_PATH`,
    });
  }
}
