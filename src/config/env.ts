// PACHA_* environment overrides, validated with envalid through the same parsers as the file.
// envalid is loaded only when a PACHA_* variable is set: most commands run with none, and
// loading it (ten CommonJS files) was a sixth of `pacha status`'s start-up (issue 14).
import { ConfigError } from '../errors.js';
import { KEY_NAMES, envName, type KeyName } from './keys.js';
import type { Layer, LayerEntry } from './settings.js';
import { InvalidValue, parseValue } from './values.js';

type Envalid = typeof import('envalid');

function validatorFor({ makeValidator, EnvError }: Envalid, key: KeyName) {
  return makeValidator<unknown>((raw) => {
    try {
      return parseValue(key, raw);
    } catch (error) {
      if (error instanceof InvalidValue) throw new EnvError(error.message);
      throw error;
    }
  });
}

export async function environmentLayer(env: NodeJS.ProcessEnv = process.env): Promise<Layer> {
  const present = KEY_NAMES.filter((key) => env[envName(key)] !== undefined && env[envName(key)] !== '');
  if (present.length === 0) return { source: 'the environment', entries: [] };
  const envalid = await import('envalid');
  const specs = Object.fromEntries(present.map((key) => [envName(key), validatorFor(envalid, key)({ default: undefined })]));
  const cleaned = envalid.cleanEnv(env, specs, {
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
