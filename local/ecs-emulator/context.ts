import { EcsApiError } from './errors.js';
import type { Params } from './params.js';
import type { EcsState } from './state.js';
import type { Assistant } from './assistant.js';
import type { Faults } from './faults.js';
import type { Regions } from './regions.js';

export interface Ctx {
  /** The inventory of the request's region. */
  state: EcsState;
  /** Every region's inventory (CopySnapshot writes into another one). */
  regions: Regions;
  params: Params;
  now: number;
  faults: Faults;
  assistant: Assistant;
}

export type Body = Record<string, unknown>;
export type Handler = (ctx: Ctx) => Body | Promise<Body>;

/** Actions that take RegionId check it against the one region the emulator serves. */
export function checkRegion(ctx: Ctx, required = true): void {
  const region = required ? ctx.params.required('RegionId') : ctx.params.str('RegionId');
  if (region !== undefined && region !== ctx.state.settings.regionId) {
    throw new EcsApiError(
      'InvalidRegionId.NotFound',
      `The specified RegionId ${region} does not exist.`,
      404,
    );
  }
}

export function tagList(tags: Record<string, string>, style: 'TagKey' | 'Key'): Body {
  return {
    Tag: Object.entries(tags).map(([k, v]) =>
      style === 'TagKey' ? { TagKey: k, TagValue: v } : { Key: k, Value: v },
    ),
  };
}

export function dryRun(ctx: Ctx): void {
  if (ctx.params.bool('DryRun') === true) {
    throw new EcsApiError('DryRunOperation', 'Request validation has been passed with DryRun flag set.', 400);
  }
}
