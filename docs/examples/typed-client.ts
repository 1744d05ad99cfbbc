import { StreamerClient } from '../../client/node'; // an app: '@streamer/client'
import type { AppActions } from './app-actions'; // types only: no server code reaches the client

export async function countWords(token: string): Promise<number> {
  const client = new StreamerClient<AppActions>('ws://127.0.0.1:3001', { token });
  try {
    const { words } = await client.request('word_count', { texts: ['one two', 'three'] }); // words: number
    // client.request('word_count', { text: 'x' });  ← a compile error: the payload is the handler's schema
    return words;
  } finally {
    client.close();
  }
}
