#!/usr/bin/env node
// The installed `pacha` command: Node's compile cache on where Node has it (compile-cache.ts),
// then the CLI. main.ts is imported only after the cache is on, so its modules are the ones
// cached. package.json's "bin" is this file as scripts/bundle.mjs --split builds it
// (dist/bundle/bin.js: each command's code in chunks, loaded when run); the tsc build's
// dist/cli/bin.js is the same without the bundle.
import { recordOwnEntry } from '../own-entry.js';
import { enableCompileCache } from './compile-cache.js';

enableCompileCache();
// pacha starts itself again through this file (git's S3 remote helper), not main's chunk.
recordOwnEntry(/* own location */ import.meta.url);
await import('./main.js');
