/** The disk categories ECS offers in every zone the emulator serves. */
export const DISK_CATEGORIES = [
  'cloud',
  'cloud_efficiency',
  'cloud_ssd',
  'cloud_essd',
  'cloud_auto',
  'cloud_essd_entry',
];

/** The categories with performance levels, and the only ones a snapshot-consistent group takes. */
export const ESSD_FAMILY = new Set(['cloud_essd', 'cloud_auto', 'cloud_essd_entry']);
