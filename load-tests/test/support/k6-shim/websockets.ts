import WS from 'ws';

/** k6/websockets' browser-like WebSocket on top of the `ws` package. */
export class WebSocket {
  onmessage: (e?: { data: string }) => void = () => {};
  onopen: () => void = () => {};
  onclose: () => void = () => {};
  onerror: (e?: { error: string }) => void = () => {};
  private readonly ws: WS;

  constructor(url: string) {
    this.ws = new WS(url);
    this.ws.on('open', () => this.onopen());
    this.ws.on('message', (data) => this.onmessage({ data: data.toString() }));
    this.ws.on('close', () => this.onclose());
    this.ws.on('error', (err) => this.onerror({ error: err.message }));
  }

  send(text: string): void {
    if (this.ws.readyState === WS.OPEN) this.ws.send(text);
  }

  close(): void {
    this.ws.close();
  }
}
