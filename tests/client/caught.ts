import { StreamerError } from '../../client/node';

/** Awaits a promise that must reject with the client's `StreamerError`, and returns that error. */
export async function caught(promise: Promise<unknown>): Promise<StreamerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StreamerError);
    return error as StreamerError;
  }
  throw new Error('expected a rejection');
}
