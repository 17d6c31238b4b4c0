import { commonErrors } from './common.js';
import { identityErrors } from './identity.js';
import { channelsErrors } from './channels.js';
import { liveErrors } from './live.js';
import { chatErrors } from './chat.js';
import { paymentsErrors } from './payments.js';
import { gatewayErrors } from './gateway.js';
import { notifyErrors } from './notify.js';
import { accountErrors } from './accounts.js';
import { oauthErrors } from './oauth.js';
import { eventsubErrors } from './eventsub.js';

/**
 * Every error code with its HTTP status. The map is the single source the
 * services render from and the web app translates from; `docs/errors.md`
 * lists each with its meaning.
 */
export const errorStatus = {
  ...commonErrors,
  ...identityErrors,
  ...channelsErrors,
  ...liveErrors,
  ...chatErrors,
  ...paymentsErrors,
  ...gatewayErrors,
  ...notifyErrors,
  ...accountErrors,
  ...oauthErrors,
  ...eventsubErrors,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof errorStatus;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.prototype.hasOwnProperty.call(errorStatus, value);
}
