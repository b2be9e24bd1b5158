/** The name a plan gets when the operator gives none. */

// prettier-ignore
const ADJECTIVES = [
  'amber', 'azure', 'bold', 'brave', 'bright', 'calm', 'clear', 'coral', 'crisp', 'dawn', 'deep', 'eager',
  'fair', 'firm', 'fleet', 'gentle', 'golden', 'grand', 'green', 'hardy', 'ivory', 'jade', 'keen', 'kind',
  'lively', 'lucid', 'mellow', 'misty', 'noble', 'olive', 'pearl', 'polar', 'proud', 'quick', 'quiet',
  'rapid', 'rosy', 'ruby', 'sage', 'silver', 'solid', 'steady', 'sunny', 'swift', 'tidy', 'true', 'vivid',
  'warm', 'wise', 'zesty',
];
// prettier-ignore
const NOUNS = [
  'anchor', 'aspen', 'badger', 'beacon', 'birch', 'brook', 'canyon', 'cedar', 'comet', 'crane', 'delta',
  'dune', 'eagle', 'ember', 'falcon', 'fern', 'fjord', 'glacier', 'grove', 'harbor', 'heron', 'island',
  'lagoon', 'lark', 'maple', 'meadow', 'mesa', 'otter', 'owl', 'pine', 'prairie', 'quail', 'raven', 'reef',
  'ridge', 'river', 'robin', 'summit', 'spruce', 'tern', 'thicket', 'tundra', 'valley', 'willow', 'wren',
  'yarrow', 'zephyr', 'lynx', 'orca', 'marten',
];

function pick<T>(list: readonly T[], random: () => number): T {
  const i = Math.min(list.length - 1, Math.max(0, Math.floor(random() * list.length)));
  return list[i] as T;
}

/**
 * `plan-amber-falcon-4821`: readable in a list, 50 × 50 × 9000 (22.5 M) combinations, and valid as an
 * ECS name (starts with a letter, only letters, digits and hyphens, well under 128 characters).
 */
export function generatePlanName(random: () => number): string {
  const n = 1000 + Math.min(8999, Math.max(0, Math.floor(random() * 9000)));
  return `plan-${pick(ADJECTIVES, random)}-${pick(NOUNS, random)}-${n}`;
}
