/* global RTCPeerConnection, RTCRtpSender */
// WebRTC transport: WHIP (RFC 9725) signalling, media as sendonly tracks, results on a DataChannel.

function gathered(pc, timeoutMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

/** Restricts a video transceiver to one codec ('vp8' or 'h264'; H264 in packetization-mode 1, which the server takes). */
function preferCodec(transceiver, codec) {
  const all = RTCRtpSender.getCapabilities?.('video')?.codecs ?? [];
  const wanted = all.filter((c) => c.mimeType.toLowerCase() === `video/${codec}` && (codec !== 'h264' || /packetization-mode=1/.test(c.sdpFmtpLine ?? '')));
  if (wanted.length === 0) throw new Error(`this browser cannot send ${codec}`);
  transceiver.setCodecPreferences(wanted);
}

export async function startWebRtc({ stream, whipUrl, onMessage, onState, videoCodec = null, connectTimeoutMs = 8000, token = null }) {
  // WHIP carries the credential as a Bearer token (RFC 9725).
  const auth = token ? { authorization: `Bearer ${token}` } : {};
  if (typeof RTCPeerConnection === 'undefined') throw new Error('this browser has no WebRTC');
  const pc = new RTCPeerConnection();
  // Tracks are attached only once the DataChannel is open: media sent earlier would be analysed while its results
  // could not yet reach the page (the SCTP association can take a second longer than the media path).
  const pending = [];
  for (const track of stream.getTracks()) {
    const t = pc.addTransceiver(track.kind, { direction: 'sendonly', streams: [stream] });
    if (track.kind === 'video' && videoCodec) preferCodec(t, videoCodec);
    pending.push([t.sender, track]);
  }
  const dc = pc.createDataChannel('emostream');
  let ended = false;
  let endWaiter = null;
  let pongWaiter = null;
  dc.onmessage = (e) => {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return;
    }
    if (msg.type === 'pong') {
      pongWaiter?.();
      return;
    }
    if (msg.type === 'end') {
      ended = true;
      endWaiter?.();
    }
    onMessage(msg);
  };
  pc.onconnectionstatechange = () => onState?.(pc.connectionState);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, 2000);
  let res;
  try {
    res = await fetch(whipUrl, { method: 'POST', headers: { 'content-type': 'application/sdp', ...auth }, body: pc.localDescription.sdp });
  } catch (err) {
    pc.close();
    throw new Error(`WHIP request failed: ${err.message}`, { cause: err });
  }
  const body = await res.text();
  if (res.status !== 201) {
    pc.close();
    let why = body;
    try {
      why = JSON.parse(body).message ?? body;
    } catch { /* plain text */ }
    throw new Error(`WHIP ${res.status}: ${why}`);
  }
  const location = new URL(res.headers.get('location') ?? '', whipUrl).toString();
  const sessionId = res.headers.get('x-emostream-session') ?? '';
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  await new Promise((resolve, reject) => {
    if (dc.readyState === 'open') return resolve();
    const t = setTimeout(() => reject(new Error(`WebRTC did not connect within ${connectTimeoutMs} ms (${pc.connectionState})`)), connectTimeoutMs);
    dc.addEventListener('open', () => {
      clearTimeout(t);
      resolve();
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') {
        clearTimeout(t);
        reject(new Error('WebRTC connection failed (ICE)'));
      }
    });
  }).catch((err) => {
    pc.close();
    fetch(location, { method: 'DELETE', headers: auth }).catch(() => undefined);
    throw err;
  });
  // One round trip on the channel before media flows: the first messages of a fresh SCTP association can take a
  // second (measured with Chromium and werift); results of the first hops would otherwise wait behind them.
  await new Promise((resolve) => {
    pongWaiter = resolve;
    dc.send(JSON.stringify({ type: 'ping', id: 0, t: Date.now() }));
    setTimeout(resolve, 3000);
  });
  await Promise.all(pending.map(([sender, track]) => sender.replaceTrack(track)));

  return {
    kind: 'webrtc',
    sessionId,
    /** Capture time of a result's last sample on this browser's clock (from its own RTCP sender reports). */
    captureEpochMs: (msg) => msg.capture?.windowEndEpochMs ?? null,
    captureBasis: (msg) => msg.capture?.basis ?? null,
    async stop() {
      if (dc.readyState === 'open') {
        dc.send(JSON.stringify({ type: 'end' }));
        if (!ended) await new Promise((resolve) => { endWaiter = resolve; setTimeout(resolve, 4000); });
      }
      if (!ended) await fetch(location, { method: 'DELETE', headers: auth }).catch(() => undefined);
      pc.close();
    },
  };
}
