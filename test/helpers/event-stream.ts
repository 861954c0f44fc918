/** One Server-Sent Events message: its event name and its data line. */
export interface StreamMessage {
  event: string;
  data: string;
}

/**
 * Reads a Server-Sent Events body as it arrives. `opened` waits for the stream's first bytes (its
 * opening comment: the subscription is live from then on); `until` reads on until a message
 * satisfies `wanted` and answers every message read so far, comments (heartbeats) left out.
 */
export function eventReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const messages: StreamMessage[] = [];
  let buffer = '';
  const take = (value: Uint8Array | undefined) => {
    buffer += decoder.decode(value, { stream: true });
    const blocks = buffer.split('\n\n');
    buffer = blocks.pop() ?? '';
    for (const block of blocks) {
      const field = (name: string) => block.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1];
      const message = { event: field('event') ?? '', data: field('data') ?? '' };
      if (message.data) messages.push(message);
    }
  };
  return {
    async opened(): Promise<void> {
      take((await reader.read()).value);
    },
    async until(wanted: (message: StreamMessage) => boolean): Promise<StreamMessage[]> {
      while (!messages.some(wanted)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended first, after ${JSON.stringify(messages)}`);
        take(value);
      }
      return messages.slice(0, messages.findIndex(wanted) + 1);
    },
    close: () => reader.cancel(),
  };
}
