/** Error codes of the channels domain (prefix CHANNELS_ or AUTH_/ADMIN_ where listed). Permanent once shipped. */
export const channelsErrors = {} as const;
