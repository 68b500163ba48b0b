import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { type MemberSocket, textFrame } from "./fanout.ts";

describe("textFrame", () => {
  it("is a frame a WebSocket client reads as the same text, at every length encoding", async () => {
    const server = createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    // 7-bit, 16-bit and 64-bit payload lengths (RFC 6455 §5.2), with multi-byte UTF-8.
    const bodies = [5, 125, 126, 65535, 65536, 70_000].map((n) =>
      Buffer.from(`"${"é".repeat(Math.floor((n - 2) / 2))}${"x".repeat((n - 2) % 2)}"`),
    );
    wss.on("connection", (ws) => {
      const raw = (ws as unknown as MemberSocket)._socket;
      for (const body of bodies) raw?.write(textFrame(body));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const received: { text: string; binary: boolean }[] = [];
      await new Promise<void>((resolve, reject) => {
        client.on("error", reject);
        client.on("message", (data: Buffer, binary) => {
          received.push({ text: data.toString(), binary });
          if (received.length === bodies.length) resolve();
        });
      });
      expect(received.map((r) => r.binary)).toEqual(bodies.map(() => false));
      expect(received.map((r) => r.text)).toEqual(bodies.map((b) => b.toString()));
      expect(bodies.map((b) => b.length)).toEqual([5, 125, 126, 65535, 65536, 70_000]);
    } finally {
      client.terminate();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.close();
    }
  });
});
