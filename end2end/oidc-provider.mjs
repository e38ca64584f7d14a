// A real OpenID Provider for the sign-in tests: npm `oidc-provider` (OpenID-certified) on a free
// loopback port, with one client (the dashboard under test) and people in different groups.
// Its own login page (the library's development interactions) is what the browser fills in.
//
//   node oidc-provider.mjs REDIRECT_URI HOME_URL CLIENT_SECRET
//
// Prints `issuer http://127.0.0.1:PORT` once it listens. `POST /test/mode/NAME` changes what the
// token endpoint answers, so the tests can show that the dashboard refuses a bad ID token:
// `normal`, `tampered` (a claim changed after signing: the signature no longer holds) and
// `wrong-aud` (re-signed with the provider's own key for another audience), `down` (the token
// endpoint answers 503, as a provider failing mid-sign-in does) and `rotated` (the provider
// rotated its keys: tokens signed by a new one, the only one its JWKS publishes).
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const [redirectUri, home, secret] = process.argv.slice(2);
const people = {
  alice: { email: 'alice@example.com', preferred_username: 'alice', groups: ['release-managers'] },
  bob: { email: 'bob@example.com', preferred_username: 'bob', groups: ['release-managers', 'staff'] },
  victor: { email: 'victor@example.com', preferred_username: 'victor', groups: ['staff'] },
  nogroups: { preferred_username: 'nogroups' },
  // Set alice's address on their own account, never verified (a self-service edit).
  mallory: { email: 'alice@example.com', email_verified: false, preferred_username: 'mallory', groups: ['staff'] },
};

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };
// The key a rotation brings in (`rotated`: tokens signed by it, and the only key published).
const next = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const nextJwk = { ...next.publicKey.export({ format: 'jwk' }), kid: 'test-key-2', use: 'sig', alg: 'RS256' };
let mode = 'normal';

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function rewrite(idToken) {
  const [h, p, s] = idToken.split('.');
  if (mode === 'rotated') {
    const header = { ...JSON.parse(Buffer.from(h, 'base64url').toString()), kid: nextJwk.kid };
    const body = `${b64(header)}.${p}`;
    return `${body}.${crypto.sign('sha256', Buffer.from(body), next.privateKey).toString('base64url')}`;
  }
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  if (mode === 'tampered') {
    claims.groups = ['platform-admins'];
    return `${h}.${b64(claims)}.${s}`;
  }
  claims.aud = 'someone-else';
  const body = `${h}.${b64(claims)}`;
  return `${body}.${crypto.sign('sha256', Buffer.from(body), privateKey).toString('base64url')}`;
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 's3-prune',
      client_secret: secret,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [home],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { email: ['email', 'email_verified'], profile: ['preferred_username'], groups: ['groups'] },
    // The groups in the ID token itself, as Okta, Entra ID, Keycloak and Dex put them.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    async findAccount(ctx, id) {
      if (!people[id]) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...people[id] }; } };
    },
    // A first-party client: no consent screen.
    async loadExistingGrant(ctx) {
      const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (id) return ctx.oidc.provider.Grant.find(id);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile groups');
      grant.addOIDCClaims(['email', 'email_verified', 'preferred_username', 'groups']);
      await grant.save();
      return grant;
    },
  });
  provider.use(async (ctx, next) => {
    if (ctx.path === '/token' && mode === 'down') {
      ctx.status = 503;
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the provider is down for maintenance' };
      return;
    }
    await next();
    if (ctx.path === '/token' && mode !== 'normal' && ctx.body?.id_token) {
      ctx.body = { ...ctx.body, id_token: rewrite(ctx.body.id_token) };
    }
    if (ctx.path === '/jwks' && mode === 'rotated') {
      ctx.body = { keys: [nextJwk] };
    }
  });
  const handle = provider.callback();
  server.on('request', (req, res) => {
    const m = req.method === 'POST' && req.url.match(/^\/test\/mode\/([a-z-]+)$/);
    if (m) {
      mode = m[1];
      res.end(mode);
      return;
    }
    handle(req, res);
  });
  console.log(`issuer ${issuer}`);
});
