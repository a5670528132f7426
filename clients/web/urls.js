/* global location */
// The one place where the page builds the server's URLs (WebSocket stream and subscribe, WHIP, the follower link),
// all relative to the page's own address. Anything every request must carry (an access token, say) goes here.

/** `ws:`/`wss:` for a path on the page's server, with query parameters. */
function wsUrl(page, path, query = {}) {
  const u = new URL(path, page);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

/**
 * `token`: a credential from the page's URL (?access_token=). Browsers cannot set Authorization on a WebSocket, so the
 * WebSocket URLs carry it as access_token; WHIP sends it as a Bearer header instead (transport-webrtc.js).
 */
export function endpoints(pageHref = location.href, token = null) {
  const page = new URL(pageHref);
  const auth = token ? { access_token: token } : {};
  return {
    /** WebSocket ingest (protocol v1). */
    stream: () => wsUrl(page, '/v1/stream', auth),
    /** WebSocket subscription to session `id`. */
    subscribe: (id) => wsUrl(page, '/v1/subscribe', { session: id, ...auth }),
    /** WHIP endpoint (WebRTC ingest). */
    whip: () => new URL('/v1/whip', page).toString(),
    /** This page, following session `id`: the link to share with followers. */
    followLink: (id) => {
      const u = new URL(page.pathname, page);
      u.searchParams.set('follow', id);
      return u.toString();
    },
  };
}
