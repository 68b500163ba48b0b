/**
 * Live fan-out: every live subscription (no `afterEventId`) with the same key — document,
 * operation, arguments and principal scope, so the same decisions and the same result for every
 * event — is a member of one group. A group holds ONE outbox stream and runs ONE loop: per event
 * it decides once (filters, legal-entity scope, the shared result), builds the WebSocket frame of
 * the `next` message once per subscribe id (clients mostly use the same few ids: "1", …), and
 * writes that one buffer to every member's TCP socket in a synchronous loop. A member costs one
 * socket write per event, not an async iterator step, a facts lookup, a string encoding and a
 * frame header of its own. (A server's frames are not masked, so every member's frame is the same
 * bytes; ws would frame each send again and write header and payload as two chunks.)
 *
 * Backpressure: writes never wait. A member whose socket holds more than `maxBufferedBytes`
 * unsent is ended with a retryable SUBSCRIPTION_LAGGING (counted) and the others go on; a group
 * whose stream falls `maxQueue` events behind ends every member the same way. Each member skips
 * the events the reader had passed before it joined, exactly as its own stream would.
 *
 * Subscriptions that resume (`afterEventId`) keep a stream of their own (server.ts): their replay
 * and the hand-over to live events are per subscriber.
 */

import { performance } from "node:perf_hooks";
import {
  type DomainEventRecord,
  type EventFilter,
  type EventStream,
  type OutboxReader,
  SubscriberLaggingError,
} from "@pshub/db/outbox";
import type { ExecutionResult, GraphQLError } from "graphql";

/** The part of a `ws` WebSocket a member writes to. */
export interface MemberSocket {
  readyState: number;
  bufferedAmount: number;
  send(data: Buffer, options: { binary: boolean }): void;
  /**
   * ws's underlying net.Socket: whole frames are written to it (corked around a batch so the
   * frames go out in one write). Safe because the server negotiates no per-message deflate, so
   * ws's sender never holds frames back (it queues only while compressing or reading a Blob),
   * and a frame written here cannot land between the parts of one of ws's own.
   */
  _socket?: { cork(): void; uncork(): void; write(frame: Buffer): boolean };
}

/** `body` as one unmasked final text frame (RFC 6455 §5.2), header and payload in one buffer. */
export function textFrame(body: Buffer): Buffer {
  const length = body.length;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (length < 126) frame[1] = length;
  else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  body.copy(frame, head);
  return frame;
}

/** Why a member ends: undefined = the stream finished; else the error its client gets. */
type Ending = GraphQLError | Error | undefined;

interface Member {
  /** `{"id":"…","type":"next","payload":` as bytes. */
  prefix: Buffer;
  id: string;
  socket: MemberSocket;
  /** Events at or below this id were passed before the member joined: not its own. */
  skipUpTo: number;
  lastEventId: number | null;
  /** Set once; the member's iterator returns or throws it. */
  ended: { error: Ending } | null;
  wake: (() => void) | null;
}

export interface FanoutOptions {
  reader: OutboxReader;
  /** What of the event stream the database and reader can filter (the field's filter). */
  filter: EventFilter;
  /** The event's `next` payload as JSON, or null when this key skips it (shared per event). */
  resolve(event: DomainEventRecord): Promise<string | null>;
  /** Unsent bytes a member's socket may hold before it ends as lagging. */
  maxBufferedBytes: number;
  /**
   * Members written per turn of the event loop, while the next batch is read and resolved
   * (see deliver); 0 = a whole batch in one turn, the next one read after it.
   */
  writeTurn: number;
  /** The error a lagging member (socket or stream) ends with. */
  lagging(lastEventId: number | null): GraphQLError;
  /** Any other error of the group's loop, as its members' clients get it. */
  translate(error: unknown, lastEventId: number | null): Ending;
  /** Called once per message written (metrics). */
  delivered(count: number): void;
  /** Called once per member ended as lagging. */
  laggingEnded(): void;
  /**
   * Called once per batch written: seconds from its first event leaving the reader to its
   * results resolved, and from its first member's write to its last (metrics: where the time
   * goes; with write turns the wait for the batch before it is in neither).
   */
  fannedOut?(resolveSeconds: number, writeSeconds: number): void;
  /** The last member left: the group is gone. */
  empty(): void;
}

const CLOSE = Buffer.from("}");

/** One event's `next` message for one subscribe id, and the same as a WebSocket frame. */
interface Outgoing {
  message: Buffer;
  frame: Buffer;
}

/** At most this many queued events go out together. */
const MAX_BATCH = 64;

/** One group of identical live subscriptions (see the file comment). */
export class FanoutGroup {
  private readonly members = new Set<Member>();
  private stream: EventStream | null = null;
  private closed = false;

  constructor(private readonly options: FanoutOptions) {}

  get size(): number {
    return this.members.size;
  }

  /**
   * A new member: an async iterator for graphql-ws that yields nothing (the group writes to the
   * socket itself) and ends when the member does.
   */
  join(
    id: string,
    socket: MemberSocket,
  ): AsyncGenerator<ExecutionResult> & { end(e: Ending): void } {
    const member: Member = {
      prefix: Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`),
      id,
      socket,
      skipUpTo: this.options.reader.position,
      lastEventId: null,
      ended: null,
      wake: null,
    };
    this.members.add(member);
    if (!this.stream) {
      this.stream = this.options.reader.subscribe({ filter: this.options.filter });
      void this.run(this.stream);
    }
    const done = { done: true, value: undefined } as const;
    const iterator = {
      next: async (): Promise<IteratorResult<ExecutionResult, undefined>> => {
        while (!member.ended) {
          await new Promise<void>((resolve) => {
            member.wake = resolve;
          });
        }
        const { error } = member.ended;
        if (error) {
          member.ended = { error: undefined };
          throw error;
        }
        return done;
      },
      return: async (): Promise<IteratorResult<ExecutionResult, undefined>> => {
        this.end(member, undefined);
        return done;
      },
      throw: async (error: unknown): Promise<IteratorResult<ExecutionResult, undefined>> => {
        this.end(member, undefined);
        throw error;
      },
      end: (error: Ending) => this.end(member, error),
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator as unknown as AsyncGenerator<ExecutionResult> & { end(e: Ending): void };
  }

  private end(member: Member, error: Ending): void {
    if (member.ended) return;
    member.ended = { error };
    this.members.delete(member);
    const wake = member.wake;
    member.wake = null;
    wake?.();
    if (this.members.size === 0 && !this.closed) {
      this.closed = true;
      this.stream?.close();
      this.options.empty();
    }
  }

  /**
   * Writes each ready event to every member that has not ended, in id order, `writeTurn`
   * members at a time with a turn of the event loop between: one batch to 10,000 sockets is
   * ~100–200 ms of writes, and in those turns the gateway reads the next events, resolves them,
   * answers pings and takes new subscribers. A member that joins meanwhile skips these events (its
   * skipUpTo); one that ends is no longer in the set.
   */
  private async deliver(
    ready: { event: DomainEventRecord; payload: Buffer; frames: Map<string, Outgoing> }[],
  ): Promise<void> {
    const { maxBufferedBytes, writeTurn } = this.options;
    let written = 0;
    let sinceYield = 0;
    for (const member of this.members) {
      if (writeTurn > 0 && ++sinceYield > writeTurn) {
        sinceYield = 0;
        this.options.delivered(written);
        written = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.closed) return;
      }
      const socket = member.socket;
      if (socket.readyState !== 1) continue;
      // A client that does not read: its buffer grows; end it (it resumes with afterEventId).
      if (socket.bufferedAmount > maxBufferedBytes) {
        this.options.laggingEnded();
        this.end(member, this.options.lagging(member.lastEventId));
        continue;
      }
      const raw = socket._socket;
      const cork = ready.length > 1 ? raw : undefined;
      cork?.cork();
      for (const { event, payload, frames } of ready) {
        if (event.id <= member.skipUpTo) continue;
        // One message and frame per subscribe id: most clients use the same id, so most share one.
        let out = frames.get(member.id);
        if (!out) {
          const message = Buffer.concat([member.prefix, payload, CLOSE]);
          out = { message, frame: textFrame(message) };
          frames.set(member.id, out);
        }
        if (raw) raw.write(out.frame);
        else socket.send(out.message, { binary: false });
        member.lastEventId = event.id;
        written++;
      }
      cork?.uncork();
    }
    this.options.delivered(written);
  }

  private async run(stream: EventStream): Promise<void> {
    const { resolve } = this.options;
    /** The batch going out now: the next one is read and resolved meanwhile, written after it. */
    let writing: Promise<void> = Promise.resolve();
    try {
      while (!this.closed) {
        const step = await stream.next();
        if (step.done || this.closed) break;
        const taken = performance.now();
        // Events that queued up while the last batch went out are taken together: their results
        // are resolved concurrently, and each socket gets them in one write (corked).
        const batch = [step.value];
        while (stream.queued > 0 && batch.length < MAX_BATCH) {
          const more = await stream.next();
          if (more.done) break;
          batch.push(more.value);
        }
        let resolved = 0;
        const [jsons] = await Promise.all([
          Promise.all(batch.map((event) => resolve(event))).then((results) => {
            resolved = performance.now();
            return results;
          }),
          writing,
        ]);
        if (this.closed) break;
        const ready: {
          event: DomainEventRecord;
          payload: Buffer;
          frames: Map<string, Outgoing>;
        }[] = [];
        batch.forEach((event, i) => {
          const json = jsons[i];
          if (json != null) ready.push({ event, payload: Buffer.from(json), frames: new Map() });
        });
        if (ready.length > 0) {
          // resolve: the batch's own results (not the wait for the batch before it to go out);
          // write: from its first write to its last.
          const writeStart = performance.now();
          const delivering = this.deliver(ready).then(() =>
            this.options.fannedOut?.(
              (resolved - taken) / 1000,
              (performance.now() - writeStart) / 1000,
            ),
          );
          // writeTurn 0: the whole batch went out in this turn; the next one is read after it.
          if (this.options.writeTurn > 0) writing = delivering;
          else await delivering;
        }
      }
      await writing;
      // The stream ended without an error (closed): members end quietly.
      for (const member of [...this.members]) this.end(member, undefined);
    } catch (error) {
      const lagging = error instanceof SubscriberLaggingError;
      for (const member of [...this.members]) {
        if (lagging) this.options.laggingEnded();
        this.end(
          member,
          lagging
            ? this.options.lagging(member.lastEventId)
            : this.options.translate(error, member.lastEventId),
        );
      }
    }
  }
}
