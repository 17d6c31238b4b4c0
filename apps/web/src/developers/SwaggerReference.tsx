import { useEffect, useMemo } from 'react';
import SwaggerUI from 'swagger-ui-react';
// Swagger UI's stylesheet, then ours over it: both are files in this lazy chunk, never inline
// styles, so the gateway's `style-src 'self'` holds and no other page downloads them.
import 'swagger-ui-react/swagger-ui.css';
import './swagger-reference.css';
import { useShownTheme } from '../useShownTheme';

/** What Swagger UI hands a request interceptor: the request about to be sent. */
interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  curlOptions?: string[];
}

/** Swagger UI's parts this page replaces with nothing (see the plugin below). */
const Nothing = () => null;

/**
 * The one module that touches Swagger UI: the public API's OpenAPI document
 * rendered as a reference, with "Try it out".
 *
 * - The document's security schemes are OAuth 2.0 flows, for which Swagger
 *   UI's Authorize dialog asks for a client and runs the flow through a
 *   redirect page Neon does not have. The page takes a pasted access token
 *   instead, so the dialog and the padlocks that open it are left out, and
 *   the token is added here to requests for `/public/v1` on this origin only.
 * - The online validator badge would send the document's address to
 *   swagger.io: BaseLayout does not render it, and the plugin makes sure
 *   (`validatorUrl` is not an option swagger-ui-react passes on).
 * - The servers menu is left out: the document names one server, this site,
 *   and the menu's select has no label.
 * - Deep links stay off: they put a link inside each operation's toggle
 *   button, a control inside a control.
 * - Swagger UI's dark theme applies under `html.dark-mode`: the class is on
 *   <html> while this is mounted and the theme on screen is dark.
 */
export default function SwaggerReference({
  url,
  token,
}: {
  url: string;
  /** The access token to send with "Try it out", read at each request ('' for none). */
  token: () => string;
}) {
  const theme = useShownTheme();
  useEffect(() => {
    const root = document.documentElement;
    root.classList.toggle('dark-mode', theme === 'dark');
    return () => root.classList.remove('dark-mode');
  }, [theme]);

  // Swagger UI reads its options once, when it mounts: these must not change after.
  const options = useMemo(
    () => ({
      plugins: [
        () => ({
          components: {
            AuthorizeBtnContainer: Nothing,
            ServersContainer: Nothing,
            authorizeOperationBtn: Nothing,
            onlineValidatorBadge: Nothing,
          },
        }),
      ],
      requestInterceptor: (request: OutgoingRequest) => authorize(request, token()),
    }),
    [token],
  );

  return (
    <SwaggerUI
      url={url}
      plugins={options.plugins}
      requestInterceptor={options.requestInterceptor as (r: object) => object}
      docExpansion="list"
      defaultModelsExpandDepth={0}
      displayOperationId
      // A query such as ?url= must not swap the document shown under Neon's name.
      queryConfigEnabled={false}
    />
  );
}

/** Adds `Authorization: Bearer` to a request for the public API on this origin, and nowhere else. */
export function authorize(request: OutgoingRequest, token: string): OutgoingRequest {
  // Swagger UI's own default: no extra options in the curl command it shows.
  request.curlOptions = [];
  if (!token) return request;
  const target = new URL(request.url, window.location.href);
  if (target.origin === window.location.origin && target.pathname.startsWith('/public/v1/')) {
    request.headers.Authorization = `Bearer ${token}`;
  }
  return request;
}
