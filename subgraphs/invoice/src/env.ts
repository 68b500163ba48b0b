/** The invoice subgraph's configuration; nothing else here reads process.env. */
import { z } from "zod";

export const invoiceEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4004),
  HOST: z.string().min(1).default("127.0.0.1"),
});
