/** Error codes the gateway answers with itself. Permanent once shipped. */
export const gatewayErrors = {
  GATEWAY_UPSTREAM_UNAVAILABLE: 503,
  GATEWAY_UPSTREAM_TIMEOUT: 504,
} as const;
