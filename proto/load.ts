import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** Directory holding the .proto files, whether running from sources or from dist/. */
export const protoDir: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'proto', 'nri', 'api.proto'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find proto/nri/api.proto above this file; is the package complete?');
    dir = up;
  }
  return join(dir, 'proto');
})();

/** Loads one .proto file (relative to proto/) into its own protobufjs root. */
export function loadProto(file: string): protobuf.Root {
  return protobuf.loadSync(join(protoDir, file));
}
