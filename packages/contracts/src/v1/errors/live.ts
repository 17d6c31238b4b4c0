/** Error codes of the live domain (prefix LIVE_ or AUTH_/ADMIN_ where listed). Permanent once shipped. */
export const liveErrors = {} as const;
