import type OAuth2Server from '@node-oauth/oauth2-server';
import { isOAuthScope } from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';
import { uuidv7, type Logger } from '@neon/kit';
import * as users from '../users/user.repository.js';
import { rolesOf } from '../users/user-view.js';
import {
  opaqueToken,
  secretMatches,
  sha256,
  type OAuthTokenSigner,
  type TokenParty,
} from './oauth-token.js';
import * as repo from './oauth.repository.js';

const DAY = 24 * 60 * 60;

/** The library's client: ours, with what the model needs to remember about it. */
interface ModelClient extends OAuth2Server.Client {
  id: string;
  grants: string[];
  redirectUris: string[];
  confidential: boolean;
}

/** A user authenticated at the consent step (no grant yet) or a token party. */
export type ModelUser = TokenParty | { kind: 'consenting'; userId: string };

/** The user a grant acts for, while they may still act (not deleted, not suspended). */
async function partyOf(q: Queryable, userId: string, grantId: string): Promise<TokenParty | null> {
  const user = await users.findById(q, userId);
  if (!user || user.suspended_at !== null) return null;
  return { kind: 'user', userId, username: user.username, roles: rolesOf(user), grantId };
}

/**
 * The storage and token half of `@node-oauth/oauth2-server`: clients, codes,
 * grants and refresh tokens in PostgreSQL (hashed), access tokens signed as
 * JWTs. The rules the library leaves to its model live here: a code or a
 * refresh token used twice revokes its grant (`revokeGrant`), a code without
 * an S256 challenge is refused, a suspended user's grant issues nothing, and
 * an app token carries no user scope.
 */
export function oauthModel(deps: {
  db: Db;
  signer: OAuthTokenSigner;
  logger: Logger;
  revokeGrant: (grantId: string, reason: string) => Promise<boolean>;
}): OAuth2Server.AuthorizationCodeModel &
  OAuth2Server.RefreshTokenModel &
  OAuth2Server.ClientCredentialsModel {
  const { db, signer, logger, revokeGrant } = deps;
  const toClient = (row: repo.ClientRow): ModelClient => ({
    id: row.id,
    redirectUris: row.redirect_uris,
    confidential: row.confidential,
    // Public clients cannot keep a secret, so they cannot hold app tokens.
    grants: row.confidential
      ? ['authorization_code', 'refresh_token', 'client_credentials']
      : ['authorization_code', 'refresh_token'],
  });
  return {
    getClient: async (clientId: string, clientSecret: string | null | undefined) => {
      const row = await repo.findClient(db, clientId);
      if (!row) return false;
      // The library passes null from the authorization step (a lookup: the user is
      // there, the client is not), and the secret or undefined from the token endpoint.
      if (clientSecret === null) return toClient(row);
      if (!row.confidential) return clientSecret ? false : toClient(row);
      if (!clientSecret || row.secret_hash === null) return false;
      return secretMatches(clientSecret, row.secret_hash) ? toClient(row) : false;
    },

    validateScope: (user: OAuth2Server.User, _client: OAuth2Server.Client, scope?: string[]) => {
      const requested = scope ?? [];
      if ((user as ModelUser).kind === 'app')
        // An app token acts for nobody: no user scope can be granted to it.
        return Promise.resolve(requested.length === 0 ? [] : false);
      return Promise.resolve(requested.every(isOAuthScope) ? requested : false);
    },

    generateAuthorizationCode: () => Promise.resolve(opaqueToken()),
    generateRefreshToken: () => Promise.resolve(opaqueToken()),

    saveAuthorizationCode: async (code, client, user) => {
      const consenting = user as ModelUser;
      if (consenting.kind !== 'consenting') throw new Error('only a consenting user gets a code');
      const scopes = code.scope ?? [];
      const grantId = await db.tx(async (q) => {
        const live = await repo.liveGrantForUpdate(q, consenting.userId, client.id);
        if (live) {
          const union = [...new Set([...live.scopes, ...scopes])];
          if (union.length !== live.scopes.length) await repo.setGrantScopes(q, live.id, union);
          await insertCodeFor(q, live.id);
          return live.id;
        }
        const id = uuidv7();
        await repo.insertGrant(q, { id, clientId: client.id, userId: consenting.userId, scopes });
        await insertCodeFor(q, id);
        return id;
      });
      async function insertCodeFor(q: Queryable, id: string): Promise<void> {
        await repo.insertCode(q, {
          hash: sha256(code.authorizationCode),
          grantId: id,
          clientId: client.id,
          scopes,
          redirectUri: code.redirectUri,
          challenge: code.codeChallenge ?? '',
          method: code.codeChallengeMethod ?? '',
          expiresAt: code.expiresAt,
        });
      }
      void grantId;
      return { ...code, client, user };
    },

    getAuthorizationCode: async (authorizationCode: string) => {
      const row = await repo.findCode(db, sha256(authorizationCode));
      if (!row || row.grant_revoked_at !== null) return false;
      if (row.consumed_at !== null) {
        // RFC 6749 §4.1.2 / RFC 9700 §4.5: a replayed code revokes what it issued.
        logger.warn({ clientId: row.client_id }, 'authorization code replayed; grant revoked');
        await revokeGrant(row.grant_id, 'code-replay');
        return false;
      }
      if (row.code_challenge_method !== 'S256' || row.code_challenge === '') return false;
      const party = await partyOf(db, row.user_id, row.grant_id);
      if (!party) return false;
      return {
        authorizationCode,
        expiresAt: row.expires_at,
        redirectUri: row.redirect_uri,
        scope: row.scopes,
        client: { id: row.client_id, grants: [] },
        user: party,
        codeChallenge: row.code_challenge,
        codeChallengeMethod: 'S256',
        grantId: row.grant_id,
      };
    },

    revokeAuthorizationCode: async (code) => {
      const hash = sha256(code.authorizationCode);
      if (await repo.consumeCode(db, hash)) return true;
      // Exchanged at the same moment by someone else: a replay all the same.
      const row = await repo.findCode(db, hash);
      if (row) await revokeGrant(row.grant_id, 'code-replay');
      return false;
    },

    generateAccessToken: (client, user, scope) =>
      signer.sign(user as TokenParty, client.id, scope ?? []),

    saveToken: async (token, client, user) => {
      const party = user as TokenParty;
      if (token.refreshToken !== undefined && party.kind === 'user')
        await repo.insertRefresh(db, {
          hash: sha256(token.refreshToken),
          grantId: party.grantId,
          scopes: token.scope ?? [],
          expiresAt: token.refreshTokenExpiresAt ?? new Date(Date.now() + 30 * DAY * 1000),
        });
      const saved: OAuth2Server.Token = {
        accessToken: token.accessToken,
        accessTokenExpiresAt: token.accessTokenExpiresAt,
        scope: token.scope ?? [],
        client,
        user,
      };
      if (party.kind === 'user' && token.refreshToken !== undefined) {
        saved.refreshToken = token.refreshToken;
        saved.refreshTokenExpiresAt = token.refreshTokenExpiresAt;
      }
      return saved;
    },

    getRefreshToken: async (refreshToken: string) => {
      const row = await repo.findRefresh(db, sha256(refreshToken));
      if (!row || row.grant_revoked_at !== null) return false;
      if (row.rotated_at !== null) {
        logger.warn({ clientId: row.client_id }, 'OAuth refresh token reused; grant revoked');
        await revokeGrant(row.grant_id, 'refresh-reuse');
        return false;
      }
      const party = await partyOf(db, row.user_id, row.grant_id);
      if (!party) return false;
      return {
        refreshToken,
        refreshTokenExpiresAt: row.expires_at,
        scope: row.scopes,
        client: { id: row.client_id, grants: [] },
        user: party,
      };
    },

    revokeToken: async (token) => {
      const hash = sha256(token.refreshToken);
      if (await repo.rotateRefresh(db, hash)) return true;
      const row = await repo.findRefresh(db, hash);
      if (row) await revokeGrant(row.grant_id, 'refresh-reuse');
      return false;
    },

    getUserFromClient: (client) =>
      Promise.resolve({ kind: 'app', clientId: client.id } satisfies TokenParty),

    // Unused (the gateway verifies access tokens), required by the model's type.
    getAccessToken: () => Promise.resolve(false as const),
  };
}
