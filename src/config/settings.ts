// Settings are layers merged in precedence order, each value keeping where it came from.
// Pure: loading a file or reading the environment happens in file.ts / env.ts.
import { ConfigError } from '../errors.js';
import { IGNORED_KEYS, KEYS, KEY_NAMES, envName, isKeyName, isSecret, keySpec, type KeyName, type ValueOf } from './keys.js';
import { REDACTED, isSecretValue, looksLikePrivateKey, rememberSecret } from './redact.js';
import { nearest } from './suggest.js';
import { InvalidValue, formatValue, parseValue } from './values.js';

/** Where a value came from: `default`, `file:/etc/pacha.conf`, `env:PACHA_SSH_USER`, `flag:--state`, `user-data:…`, `ssm:/pacha/prod/pacha.host`. */
export type Origin = string;

export interface LayerEntry {
  key: string;
  /** Raw text, parsed and validated while merging. */
  raw?: string;
  /** A value already parsed and validated by the layer's loader (the environment, via envalid). */
  value?: unknown;
  origin: Origin;
  /** A secret whatever its key (an SSM SecureString): never quoted, anywhere. */
  secret?: boolean;
}

export interface Layer {
  /** Names the source in errors: a file path, "the environment", "user data" … */
  source: string;
  entries: LayerEntry[];
  /** Things the loader noticed (an ignored section …), reported with the settings. */
  notices?: Notice[];
}

export interface Notice {
  level: 'warn' | 'info';
  message: string;
}

export interface ConfigFileState {
  path: string;
  found: boolean;
}

export interface SettingEntry {
  key: KeyName;
  value: string;
  origin: Origin;
  secret: boolean;
}

export { REDACTED };

export class Settings {
  constructor(
    private readonly values: Map<KeyName, unknown>,
    private readonly origins: Map<KeyName, Origin>,
    readonly configFile: ConfigFileState | undefined,
    readonly notices: readonly Notice[],
  ) {}

  get<N extends KeyName>(name: N): ValueOf<N> | undefined {
    return this.values.get(name) as ValueOf<N> | undefined;
  }

  /** The value, or a ConfigError that names the key, its variable and the config file. */
  require<N extends KeyName>(name: N): ValueOf<N> {
    const value = this.get(name);
    if (value === undefined) {
      throw new ConfigError(`no value for ${name}`, {
        code: 'EMISSINGKEY',
        hint: `set ${name} in ${this.configFile?.path ?? '/etc/pacha.conf'} or ${envName(name)}`,
      });
    }
    return value;
  }

  origin(name: KeyName): Origin {
    return this.origins.get(name) ?? 'default';
  }

  isSet(name: KeyName): boolean {
    return this.origin(name) !== 'default';
  }

  /** Every key with its value as text and its origin; secrets redacted. */
  entries(): SettingEntry[] {
    return KEY_NAMES.map((key) => {
      const value = this.values.get(key);
      const text = formatValue(value);
      // A key-material key, or key material (or a SecureString) under any other key.
      const secret = isSecret(key) || (value !== undefined && isSecretValue(text));
      return {
        key,
        value: secret && value !== undefined ? REDACTED : text,
        origin: this.origin(key),
        secret,
      };
    });
  }

  /** A new Settings with more layers on top (higher precedence). */
  with(layers: Layer[]): Settings {
    const base: Layer = {
      source: 'current settings',
      entries: [...this.values].map(([key, value]) => ({ key, value, origin: this.origin(key) })),
    };
    const merged = mergeLayers([base, ...layers]);
    return new Settings(merged.values, merged.origins, this.configFile, [...this.notices, ...merged.notices]);
  }
}

interface Merged {
  values: Map<KeyName, unknown>;
  origins: Map<KeyName, Origin>;
  notices: Notice[];
}

function mergeLayers(layers: Layer[]): Merged {
  const values = new Map<KeyName, unknown>();
  const origins = new Map<KeyName, Origin>();
  const notices: Notice[] = [];
  const problems: string[] = [];
  for (const layer of layers) {
    notices.push(...(layer.notices ?? []));
    for (const entry of layer.entries) {
      const raw = entry.raw ?? (typeof entry.value === 'string' ? entry.value : undefined);
      if (raw !== undefined && (entry.secret || (isKeyName(entry.key) && isSecret(entry.key)))) rememberSecret(raw);
      if (!isKeyName(entry.key)) {
        if (Object.hasOwn(IGNORED_KEYS, entry.key)) {
          notices.push({ level: 'info', message: `${layer.source}: ${entry.key} is ignored: ${IGNORED_KEYS[entry.key]}` });
          continue;
        }
        const suggestion = nearest(entry.key, KEY_NAMES);
        notices.push({
          level: 'warn',
          message: `${layer.source}: unknown key ${entry.key}${suggestion ? ` (did you mean ${suggestion}?)` : ''}; it is ignored`,
        });
        continue;
      }
      try {
        const value = entry.value !== undefined ? entry.value : parseValue(entry.key, entry.raw ?? '');
        values.set(entry.key, value);
        origins.set(entry.key, entry.origin);
      } catch (error) {
        if (!(error instanceof InvalidValue)) throw error;
        // The message quotes the value: not when the value is a secret (key material under the wrong key).
        const secret = raw !== undefined && (entry.secret || isSecretValue(raw));
        const why = raw !== undefined && looksLikePrivateKey(raw)
          ? `the value (${REDACTED}) is a private key, not a valid ${entry.key}: key material goes in pacha.ssh.private_key`
          : `the value (${REDACTED}, a SecureString) is not valid here`;
        problems.push(`${layer.source}: ${entry.key}: ${secret ? why : error.message}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(problems.length === 1 ? problems[0]! : `invalid configuration:\n  ${problems.join('\n  ')}`, {
      code: 'EBADVALUE',
      hint: 'fix the value(s) named above',
      details: { problems },
    });
  }
  return { values, origins, notices };
}

export function defaultsLayer(): Layer {
  const entries: LayerEntry[] = [];
  for (const key of KEY_NAMES) {
    const value = keySpec(key).default;
    if (value !== undefined) entries.push({ key, value, origin: 'default' });
  }
  return { source: 'defaults', entries };
}

/** Merge layers (lowest precedence first) on top of the built-in defaults. */
export function resolveSettings(layers: Layer[], configFile?: ConfigFileState, notices: Notice[] = []): Settings {
  const merged = mergeLayers([defaultsLayer(), ...layers]);
  return new Settings(merged.values, merged.origins, configFile, [...notices, ...merged.notices]);
}

export { KEYS };
