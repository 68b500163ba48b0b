/**
 * The KPI dashboard (/ops/kpis): for finance and the executives. The graph's `kpis` as charts
 * (recharts: SVG, React components, bundled offline) with the exact figures beside them, filtered
 * by legal entity and period (the day KPIs are measured to, and the month of the cycle times).
 * Amounts are never added across currencies; sums are exact (addDecimals), charts only draw them.
 */
import { type ReactNode, useMemo, useState } from "react";
import { useQuery } from "urql";
import {
  type AgeBucket,
  ConsoleKpisDocument,
  type ConsoleKpisQuery,
} from "./__generated__/operations.ts";
import { BarsChart, seriesOf } from "./charts.tsx";
import { addDecimals, ErrorText, formatSpan, plotted } from "./ui.tsx";

type Kpis = ConsoleKpisQuery["kpis"];

const BUCKETS: { bucket: AgeBucket; label: string }[] = [
  { bucket: "DAYS_0_30", label: "0–30 d" },
  { bucket: "DAYS_31_60", label: "31–60 d" },
  { bucket: "DAYS_61_90", label: "61–90 d" },
  { bucket: "DAYS_90_PLUS", label: "90+ d" },
];

function Section(props: { title: string; chart: ReactNode; children: ReactNode; id: string }) {
  return (
    <div className="card kpi" data-testid={props.id}>
      <h2>{props.title}</h2>
      <div className="kpi-body">
        <div className="kpi-chart">{props.chart}</div>
        <div className="kpi-figures">{props.children}</div>
      </div>
    </div>
  );
}

export function KpiPage() {
  const [asOf, setAsOf] = useState("");
  const [legalEntity, setLegalEntity] = useState("");
  const [month, setMonth] = useState("");
  const [result] = useQuery({
    query: ConsoleKpisDocument,
    variables: asOf ? { asOf } : {},
  });
  const kpis = result.data?.kpis;
  const entities = useMemo(() => {
    if (!kpis) return [];
    const codes = new Set<string>();
    for (const rows of [kpis.unbilled, kpis.receivables, kpis.invoiceCycleTime]) {
      for (const row of rows) codes.add(row.legalEntity);
    }
    return [...codes].sort();
  }, [kpis]);
  // Real months, latest first (the default); "ALL" rows (every month together) last.
  const months = useMemo(() => {
    const all = [...new Set((kpis?.invoiceCycleTime ?? []).map((r) => r.month))];
    return [
      ...all
        .filter((m) => m !== "ALL")
        .sort()
        .reverse(),
      ...all.filter((m) => m === "ALL"),
    ];
  }, [kpis]);
  const shownMonth = month && months.includes(month) ? month : (months[0] ?? "");
  return (
    <>
      <h1>KPIs{kpis ? ` as of ${kpis.asOf}` : ""}</h1>
      {kpis ? (
        <p className="muted" data-testid="reporting-currency">
          Converted figures in {kpis.reportingCurrency}, each with its rate and date.
        </p>
      ) : null}
      <div className="filters">
        <label>
          Legal entity{" "}
          <select
            name="legal-entity"
            value={legalEntity}
            onChange={(event) => setLegalEntity(event.target.value)}
          >
            <option value="">all</option>
            {entities.map((code) => (
              <option key={code} value={code}>
                {code}
              </option>
            ))}
          </select>
        </label>
        <label>
          As of{" "}
          <input
            type="date"
            name="as-of"
            value={asOf}
            onChange={(event) => setAsOf(event.target.value)}
          />
        </label>
        <label>
          Cycle-time month{" "}
          <select
            name="month"
            value={shownMonth}
            onChange={(event) => setMonth(event.target.value)}
          >
            {months.map((m) => (
              <option key={m} value={m}>
                {m === "ALL" ? "all months" : m}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorText error={result.error} />
      {kpis ? (
        <Dashboard kpis={kpis} legalEntity={legalEntity} month={shownMonth} />
      ) : result.fetching ? (
        <p>Loading…</p>
      ) : null}
    </>
  );
}

function Dashboard(props: { kpis: Kpis; legalEntity: string; month: string }) {
  const { kpis } = props;
  const inEntity = <T extends { legalEntity: string }>(rows: readonly T[]): T[] =>
    rows.filter((r) => !props.legalEntity || r.legalEntity === props.legalEntity);
  return (
    <>
      <CurrencyTotals rows={kpis.currencyTotals} reportingCurrency={kpis.reportingCurrency} />
      <Unbilled rows={inEntity(kpis.unbilled)} />
      <Leakage rows={inEntity(kpis.billingLeakage)} />
      <Utilisation rows={inEntity(kpis.utilisation)} />
      <Receivables rows={inEntity(kpis.receivables)} />
      <CycleTime rows={inEntity(kpis.invoiceCycleTime).filter((r) => r.month === props.month)} />
      <Exceptions rows={kpis.openExceptions} />
      <SyncHealth rows={kpis.syncHealth} />
    </>
  );
}

/** Unbilled approved work per legal entity and currency, by age since approval. */
function Unbilled(props: { rows: Kpis["unbilled"] }) {
  const groups = useMemo(() => {
    const byKey = new Map<
      string,
      { legalEntity: string; currency: string; rows: Kpis["unbilled"] }
    >();
    for (const row of props.rows) {
      const key = `${row.legalEntity} ${row.currency}`;
      const group = byKey.get(key) ?? {
        legalEntity: row.legalEntity,
        currency: row.currency,
        rows: [],
      };
      group.rows.push(row);
      byKey.set(key, group);
    }
    return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [props.rows]);
  const figures = groups.map(([key, g]) => {
    const buckets = BUCKETS.map(({ bucket }) => {
      const rows = g.rows.filter((r) => r.ageBucket === bucket);
      return {
        bucket,
        amount: addDecimals(rows.map((r) => String(r.amount))),
        hours: addDecimals(rows.map((r) => String(r.hours))),
        items: rows.reduce((n, r) => n + r.items, 0),
      };
    });
    return { key, ...g, buckets, total: addDecimals(buckets.map((b) => b.amount)) };
  });
  const chart = BUCKETS.map(({ bucket, label }) => ({
    label,
    ...Object.fromEntries(
      figures.map((f) => [f.key, plotted(f.buckets.find((b) => b.bucket === bucket)?.amount)]),
    ),
  }));
  return (
    <Section
      id="kpi-unbilled"
      title="Unbilled approved work, by age since approval"
      chart={
        <BarsChart
          data={chart}
          category="label"
          height={240}
          series={seriesOf(figures.map((f) => f.key))}
        />
      }
    >
      <table>
        <thead>
          <tr>
            <th>Legal entity</th>
            <th>Currency</th>
            {BUCKETS.map((b) => (
              <th key={b.bucket}>{b.label}</th>
            ))}
            <th>Total</th>
          </tr>
        </thead>
        <tbody>
          {figures.map((f) => (
            <tr key={f.key} data-key={f.key}>
              <td>{f.legalEntity}</td>
              <td>{f.currency}</td>
              {f.buckets.map((b) => (
                <td key={b.bucket} data-bucket={b.bucket} title={`${b.items} items, ${b.hours} h`}>
                  {b.amount}
                </td>
              ))}
              <td data-bucket="TOTAL">
                <strong>{f.total}</strong>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {figures.length === 0 ? <p className="muted">Nothing unbilled.</p> : null}
    </Section>
  );
}

const AGING = [
  { field: "current", label: "current" },
  { field: "overdue1To30", label: "1–30" },
  { field: "overdue31To60", label: "31–60" },
  { field: "overdue61To90", label: "61–90" },
  { field: "overdue90Plus", label: "90+" },
] as const;

/** AR aging and DSO per legal entity and currency. */
function Receivables(props: { rows: Kpis["receivables"] }) {
  const chart = props.rows.map((r) => ({
    name: `${r.legalEntity} ${r.currency}`,
    ...Object.fromEntries(AGING.map((a) => [a.label, plotted(String(r[a.field]))])),
  }));
  return (
    <Section
      id="kpi-receivables"
      title="Receivables: balance by days overdue, and DSO"
      chart={
        <BarsChart
          data={chart}
          category="name"
          height={240}
          series={seriesOf(
            AGING.map((a) => a.label),
            "aging",
          )}
        />
      }
    >
      <table>
        <thead>
          <tr>
            <th>Legal entity</th>
            <th>Currency</th>
            <th>Open</th>
            <th>Outstanding</th>
            {AGING.map((a) => (
              <th key={a.field}>{a.label}</th>
            ))}
            <th>DSO</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={`${r.legalEntity}-${r.currency}`} data-key={`${r.legalEntity} ${r.currency}`}>
              <td>{r.legalEntity}</td>
              <td>{r.currency}</td>
              <td data-field="openInvoices">{r.openInvoices}</td>
              <td data-field="outstanding">{String(r.outstanding)}</td>
              {AGING.map((a) => (
                <td key={a.field} data-field={a.field}>
                  {String(r[a.field])}
                </td>
              ))}
              <td data-field="dso">{r.dso == null ? "—" : String(r.dso)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

/** Invoice cycle time: p50 and p90 days per stage, for one month. */
function CycleTime(props: { rows: Kpis["invoiceCycleTime"] }) {
  const chart = props.rows.map((r) => ({
    name: `${r.legalEntity} ${r.stage.toLowerCase().replace(/_/g, " ")}`,
    p50: plotted(String(r.p50Days)),
    p90: plotted(String(r.p90Days)),
  }));
  return (
    <Section
      id="kpi-cycle-time"
      title="Invoice cycle time (days), p50 and p90"
      chart={
        <BarsChart
          data={chart}
          category="name"
          height={260}
          vertical
          categoryWidth={170}
          categoryFontSize={10}
          series={seriesOf(["p50", "p90"])}
        />
      }
    >
      <table>
        <thead>
          <tr>
            <th>Month</th>
            <th>Legal entity</th>
            <th>Stage</th>
            <th>Invoices</th>
            <th>p50</th>
            <th>p90</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr
              key={`${r.month}-${r.legalEntity}-${r.stage}`}
              data-key={`${r.month} ${r.legalEntity} ${r.stage}`}
            >
              <td>{r.month}</td>
              <td>{r.legalEntity}</td>
              <td>{r.stage}</td>
              <td data-field="invoices">{r.invoices}</td>
              <td data-field="p50Days">{String(r.p50Days)}</td>
              <td data-field="p90Days">{String(r.p90Days)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function Exceptions(props: { rows: Kpis["openExceptions"] }) {
  return (
    <Section
      id="kpi-exceptions-section"
      title="Open exceptions by owner"
      chart={
        <BarsChart
          data={props.rows}
          category="owner"
          height={200}
          wholeNumbers
          series={[
            { key: "open", color: "#3b6fd8" },
            { key: "slaBreached", name: "SLA breached", color: "#b3261e" },
          ]}
        />
      }
    >
      <table data-testid="kpi-exceptions">
        <thead>
          <tr>
            <th>Owner</th>
            <th>Open</th>
            <th>SLA breached</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={row.owner} data-owner={row.owner}>
              <td>{row.owner}</td>
              <td>{row.open}</td>
              <td className={row.slaBreached > 0 ? "overdue" : undefined}>{row.slaBreached}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function SyncHealth(props: { rows: Kpis["syncHealth"] }) {
  const chart = props.rows
    .filter((r) => r.lagMs != null)
    .map((r) => ({
      name: `${r.connector} ${r.object}`,
      lag: (r.lagMs ?? 0) / 1000,
      p50: (r.lagP50Ms24h ?? 0) / 1000,
      p99: (r.lagP99Ms24h ?? 0) / 1000,
    }));
  return (
    <Section
      id="kpi-sync"
      title="Sync health: lag now and over 24 h (seconds)"
      chart={
        <BarsChart
          data={chart}
          category="name"
          height={200}
          categoryFontSize={10}
          series={[
            { key: "lag", name: "now (s)", color: "#3b6fd8" },
            { key: "p50", name: "p50 24 h (s)", color: "#2b8a3e" },
            { key: "p99", name: "p99 24 h (s)", color: "#f08c00" },
          ]}
        />
      }
    >
      <table>
        <thead>
          <tr>
            <th>Connector</th>
            <th>Object</th>
            <th>Lag</th>
            <th>p50 24 h</th>
            <th>p99 24 h</th>
            <th>Errors</th>
            <th>Pending</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={`${r.connector}:${r.object}`} data-key={`${r.connector}:${r.object}`}>
              <td>{r.connector}</td>
              <td>{r.object}</td>
              <td>{r.lagMs == null ? "—" : formatSpan(r.lagMs)}</td>
              <td data-field="lagP50Ms24h">
                {r.lagP50Ms24h == null ? "—" : formatSpan(r.lagP50Ms24h)}
              </td>
              <td data-field="lagP99Ms24h" title={`${r.lagSamples24h} samples`}>
                {r.lagP99Ms24h == null ? "—" : formatSpan(r.lagP99Ms24h)}
              </td>
              <td data-field="errors">{r.errors}</td>
              <td data-field="pending">{r.pending}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.rows.length === 0 ? <p className="muted">No connector has polled yet.</p> : null}
    </Section>
  );
}

/** Unbilled, outstanding and leakage per currency, each converted with its rate and date. */
function CurrencyTotals(props: { rows: Kpis["currencyTotals"]; reportingCurrency: string }) {
  const measures = [...new Set(props.rows.map((r) => r.measure))];
  const currencies = [...new Set(props.rows.map((r) => r.currency))].sort();
  const chart = measures.map((measure) => ({
    measure,
    ...Object.fromEntries(
      props.rows
        .filter((r) => r.measure === measure)
        .map((r) => [r.currency, plotted(r.converted?.amount)]),
    ),
  }));
  return (
    <Section
      id="kpi-currency-totals"
      title={`Totals per currency, converted to ${props.reportingCurrency}`}
      chart={
        <BarsChart
          data={chart}
          category="measure"
          height={220}
          series={seriesOf(currencies, "converted")}
        />
      }
    >
      <table>
        <thead>
          <tr>
            <th>Measure</th>
            <th>Currency</th>
            <th>Amount</th>
            <th>Converted</th>
            <th>Rate (date, source)</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={`${r.measure}-${r.currency}`} data-key={`${r.measure} ${r.currency}`}>
              <td>{r.measure}</td>
              <td>{r.currency}</td>
              <td data-field="amount">{r.amount}</td>
              <td data-field="converted">
                {r.converted ? `${r.converted.amount} ${r.converted.currency}` : "no rate"}
              </td>
              <td>
                {r.converted
                  ? `${r.converted.rate} (${r.converted.rateDate}, ${r.converted.rateSource})`
                  : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

/** Billing leakage (approved billable items over 30 days old on no invoice), by reason. */
function Leakage(props: { rows: Kpis["billingLeakage"] }) {
  const groups = new Map<string, { reason: string; currency: string; amounts: string[] }>();
  for (const row of props.rows) {
    const key = `${row.reason} ${row.currency}`;
    const group = groups.get(key) ?? { reason: row.reason, currency: row.currency, amounts: [] };
    group.amounts.push(row.amount);
    groups.set(key, group);
  }
  const figures = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
  const counts = new Map<string, number>();
  for (const row of props.rows) counts.set(row.reason, (counts.get(row.reason) ?? 0) + 1);
  const chart = [...counts.entries()].map(([reason, items]) => ({ reason, items }));
  return (
    <Section
      id="kpi-leakage"
      title="Billing leakage: approved items over 30 days old on no invoice, by reason"
      chart={
        <BarsChart
          data={chart}
          category="reason"
          height={220}
          vertical
          categoryWidth={170}
          categoryFontSize={10}
          wholeNumbers
          legend={false}
          series={[{ key: "items", color: "#d9480f" }]}
        />
      }
    >
      <table>
        <thead>
          <tr>
            <th>Reason</th>
            <th>Currency</th>
            <th>Items</th>
            <th>Amount</th>
          </tr>
        </thead>
        <tbody>
          {figures.map(([key, g]) => (
            <tr key={key} data-key={key}>
              <td>{g.reason}</td>
              <td>{g.currency}</td>
              <td data-field="items">{g.amounts.length}</td>
              <td data-field="amount">{addDecimals(g.amounts)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {figures.length === 0 ? <p className="muted">No leakage.</p> : null}
    </Section>
  );
}

/** Utilisation to billing per legal entity and month worked. */
function Utilisation(props: { rows: Kpis["utilisation"] }) {
  const chart = props.rows.map((r) => ({
    name: `${r.legalEntity} ${r.month}`,
    billable: plotted(r.billableRatio),
    billed: plotted(r.billedRatio),
  }));
  return (
    <Section
      id="kpi-utilisation"
      title="Utilisation to billing: billable ÷ approved hours, billed ÷ billable"
      chart={
        <BarsChart
          data={chart}
          category="name"
          height={220}
          categoryFontSize={10}
          domain={[0, 1]}
          series={[
            { key: "billable", color: "#3b6fd8" },
            { key: "billed", color: "#2b8a3e" },
          ]}
        />
      }
    >
      <table>
        <thead>
          <tr>
            <th>Legal entity</th>
            <th>Month</th>
            <th>Approved h</th>
            <th>Billable h</th>
            <th>Billed h</th>
            <th>Billable ratio</th>
            <th>Billed ratio</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={`${r.legalEntity}-${r.month}`} data-key={`${r.legalEntity} ${r.month}`}>
              <td>{r.legalEntity}</td>
              <td>{r.month}</td>
              <td>{r.approvedHours}</td>
              <td>{r.approvedBillableHours}</td>
              <td>{r.billedHours}</td>
              <td data-field="billableRatio">{r.billableRatio ?? "—"}</td>
              <td data-field="billedRatio">{r.billedRatio ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
