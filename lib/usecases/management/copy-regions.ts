import { copyRegionIssues, type CopyRule } from '../../domain/copies.js';
import type { Deps } from '../deps.js';
import { invalid, type Refusal } from './outcome.js';

/**
 * The checks of a plan's copies that need the deployment (its own region, the regions it may copy
 * to), run before any write; `path` is where the list sits in the request body.
 */
export function refuseCopyRegions(
  deps: Pick<Deps, 'settings'>,
  copies: readonly CopyRule[] | null | undefined,
  path: string,
): Refusal | null {
  if (!copies || copies.length === 0) return null;
  const issues = copyRegionIssues(copies, deps.settings.ECS_REGION, deps.settings.COPY_REGIONS, path);
  return issues.length > 0 ? invalid(issues) : null;
}
