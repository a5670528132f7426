// Worker bootstrap: a worker thread does not inherit the parent's tsx registration, so register it here
// (as bin/emostream.mjs does) and then load the TypeScript worker.
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
