import { serveVerifier } from './worker-protocol.js';

await serveVerifier();
