declare module '@echogarden/fvad-wasm' {
  /** Emscripten module factory of libfvad (WebRTC VAD); typed where it is used (webrtc-vad.ts). */
  const factory: () => Promise<unknown>;
  export default factory;
}
