/** The Emscripten factory of @echogarden/pffft-wasm (the package ships no types); src/features/real-fft.ts narrows it. */
declare module '@echogarden/pffft-wasm/simd' {
  const createPffftModule: () => Promise<unknown>;
  export default createPffftModule;
}
