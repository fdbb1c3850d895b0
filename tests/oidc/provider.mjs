// A Keycloak-like identity provider for the tests: panva/oidc-provider (OpenID
// certified) on a loopback port, one confidential client, users whose realm roles are
// read from a JSON file at each request (so a test can take a role away), keys the test
// gives (so it can tell the gateway's checks from the provider's). Keycloak's shape:
// realm roles in `realm_access.roles`, the name in `preferred_username`.
//
// For the bad-token tests, POST /test/tamper {"mode": ...} makes the next token answer
// carry an ID token that is wrong in one way: "wrong-key" (signed by another key under
// the provider's key id), "expired", "wrong-aud"; "none" stops it.
//
// node provider.mjs PORT GATEWAY_URL  (env: TEST_JWK, TEST_USERS_FILE, TEST_CLIENT_SECRET)
import fs from 'node:fs';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const [port, gateway] = [Number(process.argv[2]), process.argv[3]];
const issuer = `http://127.0.0.1:${port}`;
const privateJwk = JSON.parse(process.env.TEST_JWK);
const usersFile = process.env.TEST_USERS_FILE;
const roles = (id) => JSON.parse(fs.readFileSync(usersFile, 'utf8'))[id];

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'heimdall-live',
    client_secret: process.env.TEST_CLIENT_SECRET,
    redirect_uris: [`${gateway}/auth/oidc/callback`],
    post_logout_redirect_uris: [`${gateway}/login`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  jwks: { keys: [privateJwk] },
  cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, preferred_username: id, realm_access: { roles: roles(id) || [] } }),
  }),
  claims: { openid: ['sub'], profile: ['preferred_username', 'realm_access'] },
  conformIdTokenClaims: false, // the profile claims in the ID token too, as Keycloak puts them
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: { IdToken: 300, AccessToken: 300 },
  features: { rpInitiatedLogout: { enabled: true } },
});
provider.proxy = false;

let tamper = 'none';
const signingKey = await jose.importJWK(privateJwk, 'RS256');
const { privateKey: otherKey } = await jose.generateKeyPair('RS256');

provider.use(async (ctx, next) => {
  if (ctx.path === '/test/tamper' && ctx.method === 'POST') {
    let body = '';
    for await (const chunk of ctx.req) body += chunk;
    tamper = JSON.parse(body).mode;
    ctx.body = { tamper };
    return;
  }
  await next();
  if (ctx.path === '/token' && tamper !== 'none' && ctx.body && ctx.body.id_token) {
    const claims = jose.decodeJwt(ctx.body.id_token);
    const now = Math.floor(Date.now() / 1000);
    if (tamper === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
    if (tamper === 'wrong-aud') claims.aud = 'another-application';
    const key = tamper === 'wrong-key' ? otherKey : signingKey;
    ctx.body = { ...ctx.body, id_token: await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid }).sign(key) };
  }
});

const server = provider.listen(port, '127.0.0.1', () => console.log(`provider listening on ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
