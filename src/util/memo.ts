/**
 * A keyed cache of in-flight or settled promises: concurrent callers share one computation, and a
 * rejected one is forgotten so the next call tries again (a model file that failed to convert, a
 * wasm module that failed to load).
 */
export function memoPromise<K, V>(make: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const cache = new Map<K, Promise<V>>();
  return (key) => {
    let p = cache.get(key);
    if (!p) {
      p = make(key);
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  };
}
