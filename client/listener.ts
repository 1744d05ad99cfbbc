/**
 * Application callbacks run inside the client's message handling: one that
 * throws must not leave a request half-updated or kill the socket's handler.
 * Its error is rethrown on a fresh task, as browsers do for event listeners
 * (reported to the console there; an uncaught exception in Node, like an
 * EventEmitter listener's).
 */
export function invokeListener<Args extends unknown[]>(listener: ((...args: Args) => void) | undefined, ...args: Args): void {
  if (listener === undefined) return;
  try {
    listener(...args);
  } catch (error) {
    setTimeout(() => {
      throw error;
    }, 0);
  }
}
