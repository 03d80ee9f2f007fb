import { fileURLToPath } from 'node:url'

/** The repository root (ends in `/`): handler entries are paths relative to it, whatever the cwd. */
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url))
