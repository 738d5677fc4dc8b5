import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** Request options for a JSON merge patch (RFC 7386): a field set to null is removed, a list is replaced whole. */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
