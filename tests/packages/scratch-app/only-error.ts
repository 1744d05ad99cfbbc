// Bundled by tarball-install.test.ts: importing one export must not drag in the client.
import { StreamerError } from '@streamer/client';

console.log(new StreamerError('TIMEOUT', 'tree-shaken').code);
