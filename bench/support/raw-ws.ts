/**
 * A minimal WebSocket client for load generation (RFC 6455), for benches whose clients share the
 * machine with the server they measure: a real HTTP upgrade handshake (Sec-WebSocket-Accept and
 * the subprotocol checked), then frames read straight from the TCP socket. Every connection reads
 * into ONE buffer shared by the process (net.Socket's `onread`: no Buffer per read, no stream
 * machinery, no per-message event), and a complete text message is handed over as a range of that
 * buffer, valid only during the call. Masked frames out (as a client must), pings answered with
 * pongs, close frames answered and their code reported; no extensions (no per-message deflate),
 * no UTF-8 validation (the bench reads ASCII fields). Not for anything but benches.
 */
import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const HEADER_END = Buffer.from("\r\n\r\n");

export interface RawWebSocket {
  /** Sends one text message (one masked frame). */
  send(text: string): void;
  /** Sends a close frame with this code and ends the connection. */
  close(code: number): void;
}

export interface RawWebSocketHandlers {
  open(): void;
  /**
   * One complete text message: `data[start, end)`. `data` is shared and overwritten by the next
   * read; `at` is the time its bytes were read (ms since the epoch), one clock read per read.
   */
  message(data: Buffer, start: number, end: number, at: number): void;
  /** The connection ended: the close frame's code, 1006 when it ended without one. */
  close(code: number): void;
  error(error: Error): void;
}

/** What every connection of this process reads into (net's `onread`; the read is synchronous). */
const shared = Buffer.allocUnsafe(256 * 1024);

/** A client frame: FIN, the opcode, a random mask and the masked payload (RFC 6455 §5.2, §5.3). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, head);
  for (let i = 0; i < length; i++) frame[head + 4 + i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0);
  return frame;
}

/** Opens `url` (ws://host:port/path) with one subprotocol. */
export function openRawWebSocket(
  url: string,
  protocol: string,
  handlers: RawWebSocketHandlers,
  now: () => number,
): RawWebSocket {
  const { hostname, port, pathname } = new URL(url);
  const key = randomBytes(16).toString("base64");
  const accept = createHash("sha1")
    .update(key + GUID)
    .digest("base64");
  let upgraded = false;
  let ended = false;
  /** Bytes of an incomplete frame (or of the handshake's response) kept from the last read. */
  let pending: Buffer | null = null;
  /** The parts of a fragmented message so far. */
  let fragments: Buffer[] | null = null;
  let closeCode = 1006;

  const finish = (code: number) => {
    if (ended) return;
    ended = true;
    handlers.close(code);
  };

  /** Frames in data[from, to); returns where an incomplete frame starts (to when none). */
  const frames = (data: Buffer, from: number, to: number, at: number): number => {
    let pos = from;
    while (to - pos >= 2) {
      const b0 = data[pos] ?? 0;
      const b1 = data[pos + 1] ?? 0;
      let length = b1 & 0x7f;
      let head = 2;
      if (length === 126) {
        if (to - pos < 4) break;
        length = data.readUInt16BE(pos + 2);
        head = 4;
      } else if (length === 127) {
        if (to - pos < 10) break;
        length = Number(data.readBigUInt64BE(pos + 2));
        head = 10;
      }
      // A server's frames are never masked (RFC 6455 §5.1).
      if (b1 & 0x80) {
        socket.destroy(new Error("masked frame from the server"));
        return to;
      }
      if (to - pos < head + length) break;
      const start = pos + head;
      const end = start + length;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if (opcode === 0x1 || opcode === 0x0 || opcode === 0x2) {
        if (fin && !fragments) handlers.message(data, start, end, at);
        else {
          fragments ??= [];
          fragments.push(Buffer.from(data.subarray(start, end)));
          if (fin) {
            const whole = Buffer.concat(fragments);
            fragments = null;
            handlers.message(whole, 0, whole.length, at);
          }
        }
      } else if (opcode === 0x9) {
        socket.write(clientFrame(0xa, Buffer.from(data.subarray(start, end))));
      } else if (opcode === 0x8) {
        closeCode = length >= 2 ? data.readUInt16BE(start) : 1005;
        socket.end(clientFrame(0x8, Buffer.from(data.subarray(start, Math.min(end, start + 2)))));
      }
      pos = end;
    }
    return pos;
  };

  const socket = connect({
    host: hostname,
    port: Number(port),
    noDelay: true,
    onread: {
      buffer: shared,
      callback(nread: number): boolean {
        const at = now();
        let data = shared;
        let to = nread;
        if (pending) {
          data = Buffer.concat([pending, shared.subarray(0, nread)]);
          to = data.length;
          pending = null;
        }
        let from = 0;
        if (!upgraded) {
          const headerEnd = data.subarray(0, to).indexOf(HEADER_END);
          if (headerEnd < 0) {
            pending = Buffer.from(data.subarray(0, to));
            return true;
          }
          const head = data.toString("latin1", 0, headerEnd);
          const headers = new Map<string, string>();
          for (const line of head.split("\r\n").slice(1)) {
            const colon = line.indexOf(":");
            if (colon > 0)
              headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
          }
          if (
            !head.startsWith("HTTP/1.1 101") ||
            headers.get("sec-websocket-accept") !== accept ||
            headers.get("sec-websocket-protocol") !== protocol
          ) {
            socket.destroy(new Error(`upgrade refused: ${head.split("\r\n")[0] ?? ""}`));
            return false;
          }
          upgraded = true;
          from = headerEnd + HEADER_END.length;
          handlers.open();
        }
        const rest = frames(data, from, to, at);
        if (rest < to) pending = Buffer.from(data.subarray(rest, to));
        return true;
      },
    },
  });
  socket.on("connect", () => {
    socket.write(
      `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
    );
  });
  socket.on("error", (error) => handlers.error(error));
  socket.on("close", () => finish(closeCode));

  return {
    send(text) {
      if (upgraded && !ended) socket.write(clientFrame(0x1, Buffer.from(text)));
    },
    close(code) {
      if (ended) return;
      const payload = Buffer.allocUnsafe(2);
      payload.writeUInt16BE(code, 0);
      if (upgraded) socket.end(clientFrame(0x8, payload));
      else socket.destroy();
    },
  };
}
