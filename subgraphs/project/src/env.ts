/** The project subgraph's configuration; nothing else here reads process.env. */
import { dbEnvSchema } from "@pshub/db";
import { z } from "zod";

export const envSchema = dbEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4002),
  HOST: z.string().min(1).default("127.0.0.1"),
});

export type Env = z.infer<typeof envSchema>;
