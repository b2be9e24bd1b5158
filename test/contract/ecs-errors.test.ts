import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EcsAuthError,
  EcsBusyError,
  EcsError,
  EcsInvalidParameterError,
  EcsNotFoundError,
  EcsQuotaError,
  EcsThrottledError,
  EcsTokenReusedError,
  EcsUnreachableError,
  EcsUnsupportedError,
  type Ecs,
} from '../../lib/ports/ecs.js';
import type { EcsEmulator } from '../../local/ecs-emulator/index.js';
import { adapterFor, caught, startEmulatorIn, type EmulatorFixture } from './support/ecs-fixtures.js';

/**
 * Pins the typed error the ECS adapter (official SDK) gives for every error code the emulator can
 * answer with. Each code is answered by the emulator over HTTP with the status it uses for it, so the
 * SDK's error parsing and the adapter's translation are both exercised. A use case decides on these
 * classes alone, so a code moving to another class changes behaviour and must fail here.
 */

type ErrorClass = abstract new (...args: never[]) => EcsError;

/** [code, HTTP status the emulator answers it with, class, retryable] */
const EMULATOR_CODES: [string, number, ErrorClass, boolean][] = [
  ['Throttling.User', 400, EcsThrottledError, true],
  ['InternalError', 500, EcsError, true],
  ['IncorrectDiskStatus', 403, EcsBusyError, false],
  ['IncorrectDiskStatus.CreatingSnapshot', 403, EcsBusyError, false],
  ['IncorrectInstanceStatus', 403, EcsBusyError, false],
  ['IncorrectInstanceStatus.Initializing', 403, EcsBusyError, false],
  ['InvalidSnapshot.NotReady', 403, EcsBusyError, false],
  ['IncorrectSnapshotStatus', 403, EcsBusyError, false],
  ['InvalidInstanceId.NotFound', 404, EcsNotFoundError, false],
  ['InvalidInstance.NotFound', 404, EcsNotFoundError, false],
  ['InvalidDiskId.NotFound', 404, EcsNotFoundError, false],
  ['InvalidSnapshotId.NotFound', 404, EcsNotFoundError, false],
  ['InvalidSnapshotGroupId.NotFound', 404, EcsNotFoundError, false],
  ['InvalidZoneId.NotFound', 404, EcsNotFoundError, false],
  ['InvalidRegionId.NotFound', 404, EcsNotFoundError, false],
  ['InvalidResourceId.NotFound', 404, EcsNotFoundError, false],
  ['InvalidResourceType.NotFound', 400, EcsNotFoundError, false],
  ['InvalidAction.NotFound', 404, EcsNotFoundError, false],
  ['FileNotFound', 404, EcsNotFoundError, false],
  ['DiskCategory.OperationNotSupported', 403, EcsUnsupportedError, false],
  ['InvalidSnapshotId.NotBelongToDisk', 403, EcsUnsupportedError, false],
  ['InvalidDiskId.NotBelongToInstance', 403, EcsUnsupportedError, false],
  ['InstanceDiskZoneMismatch', 403, EcsUnsupportedError, false],
  ['InstanceLockedForSecurity', 403, EcsUnsupportedError, false],
  ['SnapshotCreatedDisk', 403, EcsUnsupportedError, false],
  ['DryRunOperation', 400, EcsUnsupportedError, false],
  ['QuotaExceed.Snapshot', 403, EcsQuotaError, false],
  ['InstanceDiskLimitExceeded', 403, EcsQuotaError, false],
  ['InvalidTagCount', 400, EcsQuotaError, false],
  ['IdempotentParameterMismatch', 400, EcsTokenReusedError, false],
  ['MissingParameter', 400, EcsInvalidParameterError, false],
  ['InvalidParameter.DiskId', 400, EcsInvalidParameterError, false],
  ['InvalidParameter.Status', 400, EcsInvalidParameterError, false],
  ['InvalidParameter.Conflict', 400, EcsInvalidParameterError, false],
  ['InvalidParameter.ContentEncoding', 400, EcsInvalidParameterError, false],
  ['InvalidParameter.DiskCount', 400, EcsInvalidParameterError, false],
  ['InvalidParameter.NextToken', 400, EcsInvalidParameterError, false],
  ['InvalidParameter.NoDisk', 400, EcsInvalidParameterError, false],
  ['InvalidOperation.NotSupportCopyInSameRegion', 403, EcsUnsupportedError, false],
  ['InvalidEncrypted.NotMatchKmsKeyId', 403, EcsInvalidParameterError, false],
  ['InvalidClientToken.ValueNotSupported', 400, EcsInvalidParameterError, false],
  ['InvalidSize.ValueNotSupported', 400, EcsInvalidParameterError, false],
  ['InvalidDiskCategory.ValueNotSupported', 400, EcsInvalidParameterError, false],
  ['CmdContent.ExceedLimit', 400, EcsInvalidParameterError, false],
  ['InvalidCommandType', 400, EcsInvalidParameterError, false],
  ['InvalidVersion', 400, EcsInvalidParameterError, false],
  ['InvalidMode', 400, EcsInvalidParameterError, false],
  ['InvalidPath', 400, EcsInvalidParameterError, false],
  ['InvalidDescription.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidDiskName.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidName.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidSnapshotName.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidTagKey.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidTagValue.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidDiskIds.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidInstanceIds.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidSnapshotIds.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidAccessKeyId.NotFound', 404, EcsAuthError, false],
  ['SignatureDoesNotMatch', 400, EcsAuthError, false],
  ['SignatureNonceUsed', 400, EcsAuthError, false],
  ['IncompleteSignature', 400, EcsAuthError, false],
  ['MissingSignature', 400, EcsAuthError, false],
  ['MissingSignatureNonce', 400, EcsAuthError, false],
  ['MissingTimestamp', 400, EcsAuthError, false],
  ['InvalidSignatureMethod', 400, EcsAuthError, false],
  ['InvalidTimeStamp.Expired', 400, EcsAuthError, false],
  ['InvalidSecurityToken.Malformed', 400, EcsAuthError, false],
  ['InvalidSecurityToken.MismatchWithAccessKey', 400, EcsAuthError, false],
  ['AdminError', 400, EcsError, false],
  ['IncorrectImageStatus', 403, EcsBusyError, false],
  ['InvalidSnapshotId.NotReady', 403, EcsBusyError, false],
  ['InvalidImageId.NotFound', 404, EcsNotFoundError, false],
  ['InvalidVSwitchId.NotFound', 404, EcsNotFoundError, false],
  ['InvalidSecurityGroupId.NotFound', 404, EcsNotFoundError, false],
  ['InvalidInstanceType.ZoneNotSupported', 403, EcsUnsupportedError, false],
  ['QuotaExceed.Image', 403, EcsQuotaError, false],
  ['InvalidInstanceType.ValueNotSupported', 400, EcsInvalidParameterError, false],
  ['InvalidDestinationResource.ValueNotSupported', 400, EcsInvalidParameterError, false],
  ['InvalidImageName.Duplicated', 400, EcsInvalidParameterError, false],
  ['InvalidImageName.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidInstanceName.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidHostName.Malformed', 400, EcsInvalidParameterError, false],
  ['InvalidParameter.Mismatch', 400, EcsInvalidParameterError, false],
  ['InvalidParameter.DiskDeviceMapping', 400, EcsInvalidParameterError, false],
];

/** Codes real ECS documents for our calls that the emulator does not produce on its own. */
const DOCUMENTED_CODES: [string, number, ErrorClass, boolean][] = [
  ['Throttling', 400, EcsThrottledError, true],
  ['Throttling.Api', 503, EcsThrottledError, true],
  ['ServiceUnavailable', 503, EcsError, true],
  ['IdempotentProcessing', 403, EcsBusyError, true],
  ['LastTokenProcessing', 403, EcsBusyError, false],
  ['Operation.Conflict', 403, EcsBusyError, false],
  ['Forbidden.RAM', 403, EcsAuthError, false],
  ['Forbidden', 403, EcsAuthError, false],
  ['DiskInArrears', 403, EcsQuotaError, false],
  ['QuotaExceed.DiskCapacity', 403, EcsQuotaError, false],
  ['InvalidInstanceType.NotSupported', 403, EcsUnsupportedError, false],
  ['OperationDenied.NoStock', 403, EcsQuotaError, false],
  ['InvalidKeyPairName.NotFound', 404, EcsNotFoundError, false],
  ['InvalidDataDiskSnapshotId.NotFound', 404, EcsNotFoundError, false],
];

let fixture: EmulatorFixture;
let emu: EcsEmulator;
let ecs: Ecs;

beforeAll(async () => {
  fixture = await startEmulatorIn('ecsb-errors-', {
    seed: {
      instances: [
        {
          instanceId: 'i-errold01',
          osType: 'linux',
          disks: [
            { diskId: 'd-erroldsys', type: 'system', category: 'cloud_efficiency' },
            { diskId: 'd-erroldata', type: 'data', category: 'cloud_ssd' },
          ],
        },
      ],
    },
    asyncOperationMs: 50,
  });
  emu = fixture.emu;
  // One attempt: the answer itself is under test, not the retry loop.
  ecs = adapterFor(emu, { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2 });
});

afterAll(async () => {
  await fixture?.close();
});

beforeEach(async () => {
  await emu.admin.clearFaults();
});

describe('ECS adapter: every error code becomes its typed error', () => {
  it.each([...EMULATOR_CODES, ...DOCUMENTED_CODES])(
    '%s (HTTP %i)',
    async (code, status, errorClass, retryable) => {
      await emu.admin.failNext({ action: 'DescribeInstances', code, status });
      const err = await caught(ecs.describeInstances(['i-errold01']));
      expect(err).toBeInstanceOf(errorClass);
      expect(err.code).toBe(code);
      expect(err.statusCode).toBe(status);
      expect(err.retryable).toBe(retryable);
      expect(err.requestId).toMatch(/\S/);
      expect(err.message).toContain(`RequestId ${err.requestId}`);
      if (errorClass === EcsError) expect(err.constructor).toBe(EcsError);
    },
  );

  it('names the missing resource of a not-found error', async () => {
    await emu.admin.failNext({
      action: 'DescribeInstances',
      code: 'InvalidSnapshotGroupId.NotFound',
      status: 404,
    });
    const err = await caught(ecs.describeInstances(['i-errold01']));
    expect(err).toBeInstanceOf(EcsNotFoundError);
    expect((err as EcsNotFoundError).resource).toBe('snapshot group');
  });

  it('answers a refusal the emulator makes by itself with the same class (no injection)', async () => {
    const unsupported = await caught(
      ecs.createSnapshotGroup({
        instanceId: 'i-errold01',
        diskIds: ['d-erroldsys', 'd-erroldata'],
        name: 'not-essd',
        tags: [],
        clientToken: 'errors-not-essd',
      }),
    );
    expect(unsupported).toBeInstanceOf(EcsUnsupportedError);
    expect(unsupported.code).toBe('DiskCategory.OperationNotSupported');

    const missing = await caught(
      ecs.createDisk({
        zoneId: (await ecs.describeInstances(['i-errold01']))[0]!.zoneId,
        snapshotId: 's-doesnotexist',
        category: 'cloud_essd',
        name: 'from-nothing',
        tags: [],
        clientToken: 'errors-no-snapshot',
      }),
    );
    expect(missing).toBeInstanceOf(EcsNotFoundError);
    expect((missing as EcsNotFoundError).resource).toBe('snapshot');

    const noImage = await caught(
      ecs.runInstance({
        imageId: 'm-doesnotexist',
        instanceType: 'ecs.g7.large',
        vSwitchId: 'vsw-hemulator00000000',
        securityGroupIds: ['sg-emulator000000000001'],
        tags: [],
        clientToken: 'errors-no-image',
      }),
    );
    expect(noImage).toBeInstanceOf(EcsNotFoundError);
    expect((noImage as EcsNotFoundError).resource).toBe('image');
  });

  it('reports no answer as unreachable and retryable', async () => {
    const closed = adapterFor(emu, {
      endpoint: '127.0.0.1:1',
      maxAttempts: 1,
      baseDelayMs: 1,
      maxDelayMs: 2,
    });
    const err = await caught(closed.describeInstances(['i-errold01']));
    expect(err).toBeInstanceOf(EcsUnreachableError);
    expect(err.retryable).toBe(true);
    expect(err.statusCode).toBeNull();
  });
});
