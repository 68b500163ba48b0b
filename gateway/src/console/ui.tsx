/** What every console page shares: client-side links, error text, selects, clocks and formatting. */
import { type ReactNode, useEffect, useState } from "react";
import type { CombinedError } from "urql";

/** Moves to a console route without a reload (the shell listens to popstate). */
export function navigate(path: string): void {
  window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function Link(props: { to: string; className?: string; children: ReactNode }) {
  return (
    <a
      href={props.to}
      className={props.className}
      onClick={(event) => {
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}

/** Re-renders every `ms` (for SLA countdowns and ages). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** "3d 4h", "2h 5m", "45s" (a signed span's magnitude). */
export function formatSpan(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export function ErrorText(props: {
  error: CombinedError | undefined;
  /** Leave out the errors this says are not worth showing. */
  skip?: (error: CombinedError["graphQLErrors"][number]) => boolean;
}) {
  if (!props.error) return null;
  const errors = props.error.graphQLErrors.filter((e) => !props.skip?.(e));
  if (props.error.graphQLErrors.length > 0 && errors.length === 0) return null;
  const messages = errors.length
    ? errors.map((e) => {
        const code = e.extensions?.code;
        return typeof code === "string" ? `${code}: ${e.message}` : e.message;
      })
    : [props.error.message];
  return <p className="error">{messages.join("; ")}</p>;
}

export function Select<T extends string>(props: {
  label: string;
  value: T | "";
  options: T[];
  onChange: (value: T | "") => void;
}) {
  return (
    <label>
      {props.label}{" "}
      <select
        name={props.label.toLowerCase()}
        value={props.value}
        onChange={(event) => props.onChange(event.target.value as T | "")}
      >
        <option value="">any</option>
        {props.options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </label>
  );
}

export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function idempotencyKey(): string {
  return crypto.randomUUID();
}

/**
 * The exact sum of decimal strings ("12.30" + "0.005" = "12.305"), by BigInt at the largest
 * scale: money and hours are added without a float ever holding them.
 */
export function addDecimals(values: readonly string[]): string {
  const scale = Math.max(0, ...values.map((v) => v.split(".")[1]?.length ?? 0));
  let total = 0n;
  for (const value of values) {
    const negative = value.startsWith("-");
    const [whole = "0", fraction = ""] = value.replace(/^[-+]/, "").split(".");
    const units = BigInt(whole + fraction.padEnd(scale, "0"));
    total += negative ? -units : units;
  }
  const sign = total < 0n ? "-" : "";
  const digits = (total < 0n ? -total : total).toString().padStart(scale + 1, "0");
  return scale === 0
    ? `${sign}${digits}`
    : `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** A decimal string for a chart's axis only (charts draw floats; the figures beside stay exact). */
export const plotted = (value: string | null | undefined): number =>
  value == null ? 0 : Number(value);
