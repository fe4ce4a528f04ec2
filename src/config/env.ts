// PACHA_* environment overrides, validated with envalid through the same parsers as the file.
import { EnvError, cleanEnv, makeValidator } from 'envalid';
import { ConfigError } from '../errors.js';
import { KEY_NAMES, envName, type KeyName } from './keys.js';
import type { Layer, LayerEntry } from './settings.js';
import { InvalidValue, parseValue } from './values.js';

function validatorFor(key: KeyName) {
  return makeValidator<unknown>((raw) => {
    try {
      return parseValue(key, raw);
    } catch (error) {
      if (error instanceof InvalidValue) throw new EnvError(error.message);
      throw error;
    }
  });
}

export function environmentLayer(env: NodeJS.ProcessEnv = process.env): Layer {
  const present = KEY_NAMES.filter((key) => env[envName(key)] !== undefined && env[envName(key)] !== '');
  const specs = Object.fromEntries(present.map((key) => [envName(key), validatorFor(key)({ default: undefined })]));
  const cleaned = cleanEnv(env, specs, {
    reporter: ({ errors }) => {
      const problems = Object.entries(errors).map(([variable, error]) => `${variable}: ${(error as Error).message}`);
      if (problems.length > 0) {
        throw new ConfigError(`invalid environment: ${problems.join('; ')}`, {
          code: 'EBADVALUE',
          hint: 'fix or unset the variable(s) named above',
          details: { problems },
        });
      }
    },
  }) as Record<string, unknown>;
  const entries: LayerEntry[] = present.map((key) => ({ key, value: cleaned[envName(key)], origin: `env:${envName(key)}` }));
  return { source: 'the environment', entries };
}
