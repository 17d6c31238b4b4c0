/** Error codes of the chat domain (prefix CHAT_ or AUTH_/ADMIN_ where listed). Permanent once shipped. */
export const chatErrors = {} as const;
