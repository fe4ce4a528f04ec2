#!/usr/bin/env node
// The installed `pacha` command (package.json "bin"): Node's compile cache on where Node has
// it (compile-cache.ts), then the CLI. main.ts is imported only after the cache is on, so
// its modules are the ones cached; git's S3 remote helper still runs main.ts directly.
import { enableCompileCache } from './compile-cache.js';

enableCompileCache();
await import('./main.js');
