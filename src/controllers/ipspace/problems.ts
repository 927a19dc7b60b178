// Reasons of the IPSpace's Ready and Synced conditions beyond the shared vocabulary.
import { Reasons } from '../../api/index.ts';

export const IPSpaceReasons = {
  ...Reasons,
  /** An IP Space of that name exists in VCD and is not ours; adopt it through spec.id. */
  AlreadyExists: 'AlreadyExists',
  /** IP Spaces are managed with provider (System org) rights. */
  ProviderRequired: 'ProviderRequired',
  ProviderGatewayNotFound: 'ProviderGatewayNotFound',
  /** An orgQuotas entry waits for VCD to assign the IP Space to the org. */
  OrgAssignmentPending: 'OrgAssignmentPending',
  RealizationFailed: 'RealizationFailed',
} as const;
export type IPSpaceReason = (typeof IPSpaceReasons)[keyof typeof IPSpaceReasons];
