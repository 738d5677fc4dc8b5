import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from '../../../test/harness/errors.js';
import { repoRoot } from '../../../test/harness/tools.js';

/** The OCI archives of the images hack/images/build.sh builds (hack/images/images.list); TOOL_MISSING if one is not built. */
export function localImageArchives(): string[] {
  const list = readFileSync(join(repoRoot, 'hack', 'images', 'images.list'), 'utf8');
  return list
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const [folder = ''] = line.split('\t');
      const archive = join(repoRoot, '.cache', 'images', `${folder}.tar`);
      if (!existsSync(archive)) throw new HarnessError('TOOL_MISSING', `${archive} is missing: run "bash hack/setup.sh" to build the testbed's images`);
      return archive;
    });
}
