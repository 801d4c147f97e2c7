/** A tiny typed event emitter (no Node `events`, so it runs in browsers and React Native). */
export class Emitter<M extends { [K in keyof M]: (...args: never[]) => void }> {
  private readonly handlers = new Map<keyof M, Set<M[keyof M]>>();

  on<K extends keyof M>(event: K, handler: M[K]): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => void set.delete(handler);
  }

  emit<K extends keyof M>(event: K, ...args: Parameters<M[K]>): void {
    for (const h of [...(this.handlers.get(event) ?? [])]) {
      try {
        (h as (...a: Parameters<M[K]>) => void)(...args);
      } catch (err) {
        // One throwing handler must not starve the others or break the connection loop.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }

  clear(): void {
    this.handlers.clear();
  }
}
