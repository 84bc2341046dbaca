// autocannon ships no types (and @types/autocannon is not installed): the benchmark uses
// its programmatic API through bench/lib/load.ts only, which checks what it reads.
declare module 'autocannon' {
  interface Instance extends PromiseLike<any> {
    on(event: string, listener: (...args: any[]) => void): this;
    stop(): void;
  }
  function autocannon(options: Record<string, unknown>): Instance;
  export default autocannon;
}
