/** The plan body of the protection rules the use-case tests create: daily, kept a week. */
export const rulePlan = {
  schedule: { startAt: '2026-03-01T09:00:00Z', every: { value: 1, unit: 'days' as const } },
  retention: { value: 7, unit: 'days' as const },
  longTerm: [],
  consistency: {
    applicationConsistent: false,
    fsFreeze: true,
    windowsWriters: true,
    timeoutSeconds: 30,
    onPreScriptFailure: 'continue' as const,
    onAgentUnavailable: 'continue' as const,
  },
  timeZone: 'UTC',
  keepLatest: true,
};
