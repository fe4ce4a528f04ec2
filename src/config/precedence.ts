// The precedence of `pacha boot`'s sources, as pure functions over layers (lowest first):
// defaults < config file < SSM fleet < SSM host < user data < PACHA_* environment < flags.
// load.ts puts the file below and the environment and flags above what these return.
import type { Layer, Origin } from './settings.js';

/** The boot sources between the config file and the environment, lowest first. */
export function bootSourceLayers(sources: { ssmFleet?: Layer | undefined; ssmHost?: Layer | undefined; userData?: Layer | undefined }): Layer[] {
  return [sources.ssmFleet, sources.ssmHost, sources.userData].filter((l): l is Layer => l !== undefined);
}

/** A file written from key material, and the setting that points to it. */
export interface KeyFileSetting {
  key: 'pacha.ssh.key' | 'pacha.ssh.known_hosts';
  file: string;
  /** Origin of the material: the file's setting takes it too. */
  origin: Origin;
}

/**
 * Each written file takes the precedence of the material it came from: a key in user data
 * points pacha.ssh.key at its file above SSM and the config file, below PACHA_SSH_KEY and
 * flags. Material from the environment or a flag goes on top (`onTop`), unless the
 * environment or a flag names the file itself (`originNow` is where the key's value comes
 * from before the files are placed).
 */
export function keyFileLayers(sourceLayers: readonly Layer[], written: readonly KeyFileSetting[], originNow: (key: KeyFileSetting['key']) => Origin): { layers: Layer[]; onTop: Layer[] } {
  const layers = [...sourceLayers];
  const onTop: Layer[] = [];
  for (const { key, file, origin } of written) {
    const layer: Layer = { source: `the file written from ${origin}`, entries: [{ key, raw: file, origin }] };
    const index = layers.findIndex((l) => l.entries.some((e) => e.origin === origin));
    if (index >= 0) layers.splice(index + 1, 0, layer);
    else if (origin.startsWith('file:')) layers.unshift(layer);
    else if (!/^(env|flag):/.test(originNow(key))) onTop.push(layer);
  }
  return { layers, onTop };
}
