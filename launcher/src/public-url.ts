/**
 * Without `PUBLIC_URL`, the embedded platform is reached where its gateway
 * listens: a `GATEWAY_PORT` of its own moves the token issuer, the CORS
 * origin and the links with it, instead of leaving them on port 8080.
 */
export function withLocalPublicUrl(source: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const port = source.GATEWAY_PORT;
  if (source.PUBLIC_URL || !port || !/^[1-9][0-9]{0,4}$/.test(port)) return source;
  return { ...source, PUBLIC_URL: `http://localhost:${port}` };
}
