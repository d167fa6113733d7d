import { connect } from 'node:net';

/** Sends `request` as it is and returns everything the server writes until it closes the socket. */
export function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open; received so far: ${JSON.stringify(received)}`));
    }, 15_000);
    socket.on('data', (d) => (received += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(received);
    });
    socket.write(request);
  });
}

/** An HTTP/1.1 answer as written on the socket. */
export interface RawAnswer {
  statusLine: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/** Splits what {@link rawExchange} received into status line, headers and body. */
export function parseRawAnswer(received: string): RawAnswer {
  const [head = '', ...rest] = received.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  return { statusLine, headers, body: rest.join('\r\n\r\n') };
}
