/** What a key/value source looks like to the template runner (confd's StoreClient). */
export interface Backend {
  readonly name: BackendName;
  /**
   * Values for the given (already prefixed) keys, each key selecting itself and everything under
   * it, as the matching confd backend does. Keys in the result are the backend's full keys.
   */
  getValues(keys: readonly string[], signal?: AbortSignal): Promise<Map<string, string>>;
  /**
   * Watches the given key prefixes until `signal` aborts: `onChange` gets the keys that changed
   * (undefined: anything may have changed, e.g. after a reconnect); `onReady` fires once changes
   * from now on will be seen. Absent when the backend cannot be watched.
   */
  watch?(prefixes: readonly string[], signal: AbortSignal, handlers: WatchHandlers): Promise<void>;
  close(): Promise<void>;
}

export type BackendName = 'env' | 'file' | 'etcd';

export interface WatchHandlers {
  onChange: (keys: string[] | undefined) => void;
  onReady?: () => void;
  onNotice?: (message: string) => void;
}
