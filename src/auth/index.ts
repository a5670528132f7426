/** Access control (docs/security.md): credentials -> Identity, scopes, session ownership, limits, Origin policy. */
export { ANONYMOUS, Authenticator, createAuthenticator } from './authenticator.js';
export { authorizeSession, checkSessionAccess, requireScope } from './authorize.js';
export { authConfigSchema, limitsConfigSchema, type AuthConfig, type LimitsConfig } from './config.js';
export { extractCredential, normalizeAddress, redactUrl } from './credentials.js';
export { authRequestFromNode, refusalResponse } from './http.js';
export { ConnectionLimits } from './limits.js';
export { OriginPolicy } from './origin.js';
export { SCOPES, isScope, type AuthOutcome, type AuthRefusal, type AuthRequest, type Identity, type IdentityLimits, type Scope } from './types.js';
export { withoutPaths } from './public-view.js';
export { ServerAuth, type ServerAuthConfig } from './server-auth.js';
export { grantPublish, grantSubscribe, type Grant, type SessionDirectory } from './grants.js';
